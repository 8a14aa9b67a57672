/**
 * Content-codings pass through byte-exact: the gateway neither decodes nor re-encodes, and the
 * upstream's Content-Length (of the encoded bytes) is what the client gets. Raw sockets on both
 * sides, since `fetch` would decode gzip before the test could compare bytes.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import {
  catchAll,
  latin1,
  portOf,
  rawExchange,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** An upstream answering every request with `body` as gzip, with its exact Content-Length. */
function gzipUpstream(gzipped: Uint8Array) {
  return startRawUpstream(async (socket: RawSocket) => {
    const head = latin1(
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-encoding: gzip\r\n" +
        `content-length: ${gzipped.length}\r\nvary: accept-encoding\r\n\r\n`,
    );
    // Head and body in one write, so a small body arrives with the head in one read.
    const response = new Uint8Array(head.length + gzipped.length);
    response.set(head);
    response.set(gzipped, head.length);
    while (await socket.readHead() !== null) await socket.write(response);
  });
}

/** Deterministic, poorly compressible text: the gzip of it stays large. */
function noisyText(bytes: number): string {
  let x = 12345;
  let s = "";
  while (s.length < bytes) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(33 + (x % 90));
  }
  return s;
}

for (
  const [what, text] of [
    ["a small gzip body (read in one piece)", "hello, gzip ".repeat(50)],
    ["a large gzip body (streamed)", noisyText(512 * 1024)],
  ] as const
) {
  Deno.test(`${what} reaches the client byte-exact with its own Content-Length`, async () => {
    const gzipped = new Uint8Array(gzipSync(latin1(text)));
    const upstream = gzipUpstream(gzipped);
    const gw = await startTestGateway(catchAll(upstream.url));
    try {
      const res = await rawExchange(
        portOf(gw),
        "GET /gz HTTP/1.1\r\nHost: api.test\r\nAccept-Encoding: gzip\r\n\r\n",
      );
      assert.equal(res.status, 200);
      assert.equal(res.header("content-encoding"), "gzip");
      assert.equal(res.header("content-length"), String(gzipped.length));
      assert.equal(res.header("transfer-encoding"), null);
      assert.equal(res.body.length, gzipped.length);
      assert.deepEqual(res.body, gzipped);
    } finally {
      await gw.close();
      await upstream.close();
    }
    assert.deepEqual(upstream.errors, []);
  });
}

Deno.test("an identity body is not compressed by the gateway for a gzip-accepting client", async () => {
  const text = "plain text, compressible ".repeat(400);
  const upstream = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      // Chunked, no Content-Length: the case where a server would be most tempted to compress.
      await socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n" +
          `${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`,
      );
    }
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(
      portOf(gw),
      "GET /plain HTTP/1.1\r\nHost: api.test\r\nAccept-Encoding: gzip, br\r\n\r\n",
    );
    assert.equal(res.status, 200);
    assert.equal(res.header("content-encoding"), null);
    assert.equal(res.text(), text);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
