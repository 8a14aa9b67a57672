/**
 * Interim (1xx) responses before the final one, from a raw TCP upstream: real upstreams send a
 * few (100 Continue, 102 Processing, 103 Early Hints), and Ferry skips up to 16 of them. One more
 * is an upstream that never gets to its answer: a protocol error that says so and names the
 * limit, a 502 at the gateway, and a connection that is not used again.
 */
import assert from "node:assert/strict";
import { UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { type RawConn, startRawServer } from "./servers/raw_server.ts";
import { protocolErrorDetail } from "./servers/plain_gateway.ts";
import { firstThenReuseProbe } from "./servers/reuse_probe.ts";
import { bodyText, header, relaxed, request, targetFor } from "./servers/target.ts";

const LIMIT = 16;
const TOO_MANY = /upstream sent more than 16 interim \(1xx\) responses/;

/** `count` interim responses cycling through 100, 102 and 103, then a 200 "done". */
function interimThenFinal(count: number): string {
  const interim = [
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 102 Processing\r\n\r\n",
    "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n",
  ];
  let out = "";
  for (let i = 0; i < count; i++) out += interim[i % interim.length];
  return out + "HTTP/1.1 200 OK\r\nx-final: yes\r\ncontent-length: 4\r\n\r\ndone";
}

async function withClient(
  handle: (conn: RawConn, index: number) => Promise<void>,
  fn: (
    send: () => ReturnType<Http1Client["send"]>,
    server: ReturnType<typeof startRawServer>,
  ) => Promise<void>,
): Promise<void> {
  const server = startRawServer(handle);
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  try {
    await fn(() => client.send(targetFor(server.port), request(server.port), relaxed), server);
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
}

Deno.test("16 interim responses before the final one are skipped and the connection kept", async () => {
  await withClient(async (conn) => {
    while (await conn.readHead() !== null) await conn.write(interimThenFinal(LIMIT));
  }, async (send, server) => {
    for (let i = 0; i < 2; i++) {
      const res = await send();
      assert.equal(res.status, 200);
      assert.equal(header(res.headers, "x-final"), "yes");
      assert.equal(header(res.headers, "link"), undefined);
      assert.equal(await bodyText(res.body), "done");
    }
    assert.equal(server.accepted, 1);
  });
});

Deno.test("a 17th interim response is a protocol error naming the limit, and the connection is dropped", async () => {
  await withClient(firstThenReuseProbe(interimThenFinal(LIMIT + 1)), async (send, server) => {
    await assert.rejects(send(), (e) => {
      assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
      assert.equal(e.kind, "protocol", e.message);
      assert.match(e.message, TOO_MANY);
      return true;
    });
    assert.equal(await bodyText((await send()).body), "fresh");
    assert.equal(server.accepted, 2);
  });
});

Deno.test("through the gateway, too many interim responses are a 502 naming the cause", async () => {
  assert.match(await protocolErrorDetail(interimThenFinal(LIMIT + 1)), TOO_MANY);
});
