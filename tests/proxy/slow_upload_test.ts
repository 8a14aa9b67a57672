/**
 * The total timeout bounds the wait for the upstream's answer, not the upload: a body streaming
 * over a slow link for longer than it must still arrive (it failed with 504 while the upstream
 * was receiving it). A stalled upload ends after the idle timeout instead, blamed on the side it
 * waits on: 408 when the client stops sending (nginx's client_body_timeout; the upstream is not
 * counted as failing), 504 when the upstream stops reading.
 */
import assert from "node:assert/strict";
import {
  portOf,
  RawSocket,
  startRawUpstream,
  startTestGateway,
  within,
} from "../helpers/gateway.ts";

const TOTAL_MS = 200;

/** An upstream that reads a 10-byte body, telling when the first 5 bytes arrived. */
function slowBodyUpstream() {
  const firstHalf = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    await socket.readBytes(5);
    firstHalf.resolve();
    const rest = new TextDecoder().decode(await socket.readBytes(5));
    await socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${rest.length}\r\n\r\n${rest}`);
  });
  return Object.assign(upstream, { firstHalf: firstHalf.promise });
}

function config(url: string, timeouts: Record<string, string>, extra = {}) {
  return {
    upstreams: {
      api: {
        targets: [url],
        timeouts,
        retries: false,
        outlierDetection: { consecutiveFailures: 1 },
        ...extra,
      },
    },
    routes: [{ upstream: "api" }],
  };
}

async function connect(port: number): Promise<RawSocket> {
  return new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port }));
}

const UPLOAD_HEAD = "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n";

Deno.test("an upload slower than the total timeout still reaches the upstream and is answered", async () => {
  const upstream = slowBodyUpstream();
  const gw = await startTestGateway(config(upstream.url, { total: `${TOTAL_MS}ms`, idle: "10s" }));
  const client = await connect(portOf(gw));
  try {
    await client.write(UPLOAD_HEAD + "01234");
    await within(upstream.firstHalf, 5_000, "the first half upstream");
    // The slow link: the rest of the body comes later than the whole total timeout.
    await new Promise((resolve) => setTimeout(resolve, TOTAL_MS * 2));
    await client.write("56789");
    const head = await within(client.readHead(), 5_000, "the answer");
    assert.match(head ?? "", /^HTTP\/1\.1 200 /);
    assert.equal(new TextDecoder().decode(await client.readBytes(5)), "56789");
  } finally {
    client.close();
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a client that stops sending its body gets 408 after the idle timeout, and the upstream is not blamed", async () => {
  const upstream = slowBodyUpstream();
  const gw = await startTestGateway(config(upstream.url, { total: "10s", idle: "200ms" }));
  const client = await connect(portOf(gw));
  try {
    await client.write(UPLOAD_HEAD + "01234"); // and nothing more
    const head = await within(client.readHead(), 10_000, "the gateway's answer");
    assert.match(head ?? "", /^HTTP\/1\.1 408 /);
    assert.match(head ?? "", /connection: close/i);
    // With `consecutiveFailures: 1`, one failure blamed on the target would eject it (503).
    const next = await fetch(`${gw.url}/after`, { method: "POST", body: "0123456789" });
    assert.equal(next.status, 200);
    assert.equal(await next.text(), "56789");
  } finally {
    client.close();
    await gw.close();
    await upstream.close();
  }
});

Deno.test("an upstream that stops reading the body ends the upload with 504 after the idle timeout", async () => {
  const stalled = Promise.withResolvers<void>();
  // Reads the head and then nothing: the body fills the socket buffers and the upload stalls.
  const upstream = startRawUpstream(async (socket) => {
    await socket.readHead();
    await stalled.promise;
  });
  const size = 64 * 1024 * 1024; // far more than every socket buffer on the way holds
  const gw = await startTestGateway({
    ...config(upstream.url, { total: "10s", idle: "200ms" }),
    limits: { maxBodyBytes: size },
  });
  const client = await connect(portOf(gw));
  try {
    await client.write(`POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: ${size}\r\n\r\n`);
    // The client keeps offering the body; its writes block once every buffer on the way is full.
    const chunk = new Uint8Array(256 * 1024);
    const feeding = (async () => {
      for (let sent = 0; sent < size; sent += chunk.length) await client.conn.write(chunk);
    })().catch(() => {});
    const head = await within(client.readHead(), 10_000, "the gateway's answer");
    assert.match(head ?? "", /^HTTP\/1\.1 504 /);
    client.close();
    await feeding;
  } finally {
    stalled.resolve();
    client.close();
    await gw.close();
    await upstream.close();
  }
});
