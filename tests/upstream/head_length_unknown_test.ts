/**
 * A HEAD answer that gives no Content-Length (the upstream's GET is chunked or runs until close)
 * goes to the client without one. Deno.serve writes `content-length: 0` for a bodiless response,
 * which tells a HEAD client the resource is empty (RFC 9110 §8.6: a HEAD answer's Content-Length
 * must be what GET would send). nginx sends neither Content-Length nor Transfer-Encoding there.
 */
import assert from "node:assert/strict";
import { portOf, RawSocket, startRawUpstream } from "../helpers/gateway.ts";
import { startPlainGateway } from "./servers/plain_gateway.ts";

/** Framing fields a streaming upstream answers HEAD with, as its GET would have. */
const UNKNOWN_LENGTH = [
  "transfer-encoding: chunked\r\n",
  "transfer-encoding: gzip, chunked\r\ncontent-encoding: gzip\r\n",
  "", // Close-delimited: no framing field at all.
];

Deno.test("a HEAD answer without content-length reaches the client without one, and the connection stays usable", async () => {
  for (const framing of UNKNOWN_LENGTH) {
    const what = JSON.stringify(framing);
    const upstream = startRawUpstream(async (socket) => {
      while (await socket.readHead() !== null) {
        await socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${framing}\r\n`);
      }
    });
    const gw = await startPlainGateway(upstream.port);
    const client = new RawSocket(
      await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) }),
    );
    try {
      for (let i = 0; i < 2; i++) {
        await client.write(`HEAD /file HTTP/1.1\r\nhost: gw.test\r\n\r\n`);
        // Stray body bytes after the first head would show up in front of the second.
        const head = await client.readHead() ?? "";
        assert.ok(head.startsWith("HTTP/1.1 200 "), `${what}: ${head}`);
        assert.doesNotMatch(head, /^content-length:/im, what);
        assert.doesNotMatch(head, /^transfer-encoding:/im, what);
        assert.match(head, /^content-type: text\/plain$/im, what);
      }
      await client.write(`HEAD /file HTTP/1.1\r\nhost: gw.test\r\nconnection: close\r\n\r\n`);
      assert.ok((await client.readHead())?.startsWith("HTTP/1.1 200 "), what);
      assert.equal((await client.readToEnd()).length, 0, what);
    } finally {
      client.close();
      await gw.close();
      await upstream.close();
    }
    assert.deepEqual(upstream.errors, [], what);
  }
});

Deno.test("a HEAD answer with content-length keeps it", async () => {
  const upstream = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n");
    }
  });
  const gw = await startPlainGateway(upstream.port);
  try {
    const res = await fetch(`${gw.url}/file`, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), "1234");
    await res.body?.cancel();
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.deepEqual(upstream.errors, []);
});
