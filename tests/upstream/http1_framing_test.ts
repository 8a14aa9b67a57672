/**
 * Response framing of the raw HTTP/1.1 client against an upstream that sends more than it framed,
 * where the excess could be taken for the next response on a pooled connection.
 */
import assert from "node:assert/strict";
import { UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { bodyText, relaxed, request, targetFor } from "./servers/target.ts";

/** Reads a stream to the end with a plain reader, so nothing but microtasks separate the end. */
async function drain(body: ReadableStream<Uint8Array>): Promise<number> {
  const reader = body.getReader();
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return total;
    total += value.length;
  }
}

Deno.test("bytes past a streamed content-length body are not read as the next response", async () => {
  const length = 40_000; // more than the first read takes, so the body streams
  const smuggled = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nEVIL";
  const server = startRawServer(async (conn, index) => {
    if (index === 0) {
      await conn.readHead();
      // One write: by the time the client reads the body's last bytes, the extra ones are in
      // its receive buffer too.
      await conn.write(
        `HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\n\r\n${"x".repeat(length)}${smuggled}`,
      );
    }
    while (await conn.readHead() !== null) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nGOOD");
    }
  });
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  try {
    const first = await client.send(targetFor(server.port), request(server.port), relaxed);
    assert.ok(first.body instanceof ReadableStream, "the body streams");
    assert.equal(await drain(first.body), length);
    // Sent at once, as a busy gateway would: before the pool could notice the stray bytes.
    const second = await client.send(targetFor(server.port), request(server.port), relaxed);
    assert.equal(await bodyText(second.body), "GOOD");
    assert.equal(server.accepted, 2, "the connection with stray bytes was not reused");
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});

Deno.test("a chunk size with stray characters after it is a protocol error", async () => {
  // "5 6" is not a chunk size; after the hex digits only whitespace and ";" may follow. Taking
  // it as 5 with an extension " 6" would read a body framed differently from what was meant.
  for (const size of ["5 6", "5\t6", "5 x=1", "5 ;ok=1 ", "5 \t"]) {
    const strict = size.startsWith("5 ;") || size === "5 \t";
    const server = startRawServer(async (conn) => {
      await conn.readHead();
      await conn.write(
        `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`,
      );
    });
    const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
    try {
      const sent = client.send(targetFor(server.port), request(server.port), relaxed);
      if (strict) {
        // Whitespace before ";" or before the line end is allowed (BWS): these are fine.
        assert.equal(await bodyText((await sent).body), "hello", JSON.stringify(size));
      } else {
        await assert.rejects(sent, (e: unknown) => {
          assert.ok(e instanceof UpstreamError, `${JSON.stringify(size)}: ${e}`);
          assert.equal(e.kind, "protocol", `${JSON.stringify(size)}: ${e.message}`);
          return true;
        });
      }
    } finally {
      client.close();
      await server.close();
    }
    assert.deepEqual(server.errors, []);
  }
});
