/**
 * Hunt: upstreams that answer before the request body is in, stale pooled connections under a
 * large buffered body, and an abort while connecting.
 */
import assert from "node:assert/strict";
import { UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { bodyText, pattern, relaxed, request, targetFor } from "./servers/target.ts";

const options = { maxIdlePerTarget: 8, idleTimeoutMs: 30_000 };

Deno.test("an early 413 stops the streamed request body and does not pool its connection", async () => {
  let cancelled: (reason: unknown) => void = () => {};
  const bodyCancelled = new Promise<unknown>((resolve) => cancelled = resolve);
  const server = startRawServer(async (conn, index) => {
    await conn.readHead();
    if (index === 0) {
      // Answers at once, keep-alive framing, and never reads the body.
      await conn.write("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig");
      await conn.waitForClose();
      return;
    }
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  const client = new Http1Client(options);
  try {
    // An endless body: the writer can only stop because the exchange told it to.
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(16 * 1024)),
      cancel: (reason) => cancelled(reason),
    });
    const res = await client.send(
      targetFor(server.port),
      request(server.port, { method: "POST", body, bodyLength: -1 }),
      relaxed,
    );
    assert.equal(res.status, 413);
    assert.equal(await bodyText(res.body), "big");
    await bodyCancelled;
    const next = await client.send(targetFor(server.port), request(server.port), relaxed);
    assert.equal(await bodyText(next.body), "ok");
    assert.equal(server.accepted, 2, "the connection with a half-sent body was not reused");
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});

Deno.test("a PUT with a large buffered body is resent whole after a stale pooled connection", async () => {
  const payload = pattern(200 * 1024, 7);
  const received: Uint8Array[] = [];
  const server = startRawServer(async (conn, index) => {
    let n = 0;
    for (;;) {
      const head = await conn.readHead();
      if (head === null) return;
      n++;
      if (index === 0 && n === 2) return conn.close(); // Went stale under the second request.
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? "0");
      received.push(await conn.readBytes(length));
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const client = new Http1Client(options);
  try {
    const send = (over = {}) =>
      client.send(targetFor(server.port), request(server.port, over), relaxed);
    assert.equal(await bodyText((await send()).body), "ok");
    const res = await send({ method: "PUT", body: payload, bodyLength: payload.length });
    assert.equal(await bodyText(res.body), "ok");
    assert.equal(server.accepted, 2);
    assert.equal(received.length, 2);
    assert.deepEqual(received[1], payload);
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});

Deno.test("aborting while connecting rejects with aborted", async () => {
  const server = startRawServer(async (conn) => {
    await conn.readHead();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  const client = new Http1Client(options);
  try {
    const abort = new AbortController();
    const sent = client.send(
      targetFor(server.port),
      request(server.port, { signal: abort.signal }),
      relaxed,
    );
    abort.abort();
    await assert.rejects(sent, (e) => e instanceof UpstreamError && e.kind === "aborted");
  } finally {
    client.close();
    await server.close();
  }
});
