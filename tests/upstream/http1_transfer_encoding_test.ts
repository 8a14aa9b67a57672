/**
 * A Transfer-Encoding field that is present but does not end in chunked (RFC 9112 §6.1, §6.3),
 * from a raw TCP upstream: empty (`transfer-encoding:`), only empty list elements
 * (`transfer-encoding: ,`), or a coding Ferry cannot undo (`gzip`). Each, with or without a
 * Content-Length, is invalid framing for Ferry: a protocol error (502 at the gateway), and the
 * connection it came on is never used again. Present means present: an empty value must not
 * make the field count as absent, which would frame the body by Content-Length or by close.
 */
import assert from "node:assert/strict";
import { UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { protocolErrorDetail } from "./servers/plain_gateway.ts";
import { firstThenReuseProbe } from "./servers/reuse_probe.ts";
import { bodyText, relaxed, request, targetFor } from "./servers/target.ts";

/** [framing fields, body, what the error message must say]. */
const INVALID: [string, string, RegExp][] = [
  ["transfer-encoding:\r\ncontent-length: 2\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding:\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding:  \t \r\ncontent-length: 2\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding: ,\r\ncontent-length: 2\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding: , ,\r\n", "hi", /names no transfer-coding/],
  ["content-length: 2\r\ntransfer-encoding:\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding:\r\ntransfer-encoding: ,\r\n", "hi", /names no transfer-coding/],
  ["transfer-encoding: gzip\r\n", "hi", /unsupported transfer-coding "gzip"/],
  ["transfer-encoding: gzip\r\ncontent-length: 2\r\n", "hi", /unsupported transfer-coding/],
  ["transfer-encoding: chunked\r\ntransfer-encoding: gzip\r\n", "2\r\nhi\r\n0\r\n\r\n", /gzip/],
];

function response(fields: string, body: string): string {
  return `HTTP/1.1 200 OK\r\n${fields}\r\n${body}`;
}

Deno.test("a present transfer-encoding that does not end in chunked is a protocol error, and its connection is not reused", async () => {
  for (const [fields, body, message] of INVALID) {
    const what = JSON.stringify(fields);
    const server = startRawServer(firstThenReuseProbe(response(fields, body)));
    const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
    const send = () => client.send(targetFor(server.port), request(server.port), relaxed);
    try {
      await assert.rejects(send(), (e) => {
        assert.ok(e instanceof UpstreamError, `${what}: expected an UpstreamError, got ${e}`);
        assert.equal(e.kind, "protocol", `${what}: ${e.message}`);
        assert.match(e.message, message, what);
        return true;
      }, what);
      assert.equal(await bodyText((await send()).body), "fresh", what);
      assert.equal(server.accepted, 2, what);
    } finally {
      client.close();
      await server.close();
    }
    assert.deepEqual(server.errors, [], what);
  }
});

Deno.test("empty list elements around chunked are ignored: the body is chunked and the connection kept", async () => {
  for (
    const fields of [
      "transfer-encoding: chunked,\r\n",
      "transfer-encoding: , chunked\r\n",
      "transfer-encoding: chunked\r\ntransfer-encoding:\r\n",
      "transfer-encoding:\r\ntransfer-encoding: chunked\r\n",
    ]
  ) {
    const what = JSON.stringify(fields);
    const server = startRawServer(async (conn) => {
      while (await conn.readHead() !== null) {
        await conn.write(response(fields, "2\r\nhi\r\n0\r\n\r\n"));
      }
    });
    const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
    const send = () => client.send(targetFor(server.port), request(server.port), relaxed);
    try {
      assert.equal(await bodyText((await send()).body), "hi", what);
      assert.equal(await bodyText((await send()).body), "hi", what);
      assert.equal(server.accepted, 1, what);
    } finally {
      client.close();
      await server.close();
    }
    assert.deepEqual(server.errors, [], what);
  }
});

Deno.test("through the gateway, an empty transfer-encoding is a 502 naming the cause", async () => {
  // The upstream closes after answering, so a body framed by close would end, not hang.
  const detail = await protocolErrorDetail(response("transfer-encoding:\r\n", "hi"));
  assert.match(detail, /transfer-encoding names no transfer-coding/);
});
