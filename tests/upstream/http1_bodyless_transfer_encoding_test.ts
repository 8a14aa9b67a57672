/**
 * Responses that have no body whatever their framing fields say (RFC 9112 §6.3 rule 1: the
 * answer to HEAD, and 1xx, 204 and 304) may carry a Transfer-Encoding Ferry could not decode on
 * a body (`gzip, chunked`, `gzip`): an upstream answering HEAD sends the fields its GET would
 * have. Such a response ends at its head, reaches the caller, and its connection stays usable.
 */
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.ts";
import { withRawServer } from "./servers/raw_client_harness.ts";
import { firstThenReuseProbe } from "./servers/reuse_probe.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { bodyText } from "./servers/target.ts";

/** A request's method, the upstream's answer, and the status and body the caller must get. */
interface Case {
  method: string;
  answer: string;
  status: number;
  body: string;
}

const BODYLESS: Case[] = [
  {
    method: "HEAD",
    answer: "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
    status: 200,
    body: "",
  },
  {
    method: "HEAD",
    answer: "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
    status: 200,
    body: "",
  },
  {
    method: "HEAD",
    answer: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 10\r\n\r\n",
    status: 200,
    body: "",
  },
  {
    method: "GET",
    answer: 'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\ntransfer-encoding: gzip, chunked\r\n\r\n',
    status: 304,
    body: "",
  },
  {
    method: "GET",
    answer: "HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked, chunked\r\n\r\n",
    status: 204,
    body: "",
  },
  {
    // An interim answer ends at its head too.
    method: "GET",
    answer: "HTTP/1.1 103 Early Hints\r\ntransfer-encoding: gzip\r\n\r\n" +
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
    status: 200,
    body: "hi",
  },
];

Deno.test("a HEAD, 204 or 304 answer with any transfer-encoding ends at its head and keeps its connection", async () => {
  for (const { method, answer, status, body } of BODYLESS) {
    const what = `${method} answered ${JSON.stringify(answer)}`;
    await withRawServer(firstThenReuseProbe(answer), async (send, server) => {
      const res = await send({ method });
      assert.equal(res.status, status, what);
      assert.equal(await bodyText(res.body), body, what);
      assert.equal(await bodyText((await send()).body), "reused", what);
      assert.equal(server.accepted, 1, what);
    });
  }
});

Deno.test("a GET answered 200 with transfer-encoding gzip, chunked is still a protocol error", async () => {
  await withRawServer(
    firstThenReuseProbe("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n"),
    async (send) => {
      await assert.rejects(send(), /unsupported transfer-coding "gzip"/);
    },
  );
});

Deno.test("through the gateway, HEAD and a conditional GET answered with transfer-encoding gzip, chunked pass", async () => {
  const server = startRawServer(async (conn) => {
    for (;;) {
      const head = await conn.readHead();
      if (head === null) return;
      const status = head.startsWith("HEAD ") ? "200 OK" : "304 Not Modified";
      await conn.write(
        `HTTP/1.1 ${status}\r\netag: "v1"\r\ncontent-type: text/plain\r\n` +
          "content-encoding: gzip\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
      );
    }
  });
  const gw = await startTestGateway({
    upstreams: {
      raw: {
        targets: [`http://127.0.0.1:${server.port}`],
        retries: false,
        circuitBreaker: false,
        outlierDetection: false,
      },
    },
    routes: [{ name: "all", upstream: "raw" }],
  }, { admin: false });
  try {
    const head = await fetch(`${gw.url}/file`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), '"v1"');
    assert.equal(head.headers.get("transfer-encoding"), null);
    await head.body?.cancel();
    const cached = await fetch(`${gw.url}/file`, { headers: { "if-none-match": '"v1"' } });
    assert.equal(cached.status, 304);
    assert.equal(await cached.text(), "");
    // Both exchanges went over the one upstream connection.
    assert.equal(server.accepted, 1);
  } finally {
    await gw.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});
