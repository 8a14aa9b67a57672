/**
 * A request whose body streams (larger than `maxBufferedBodyBytes`, or chunked) cannot be resent
 * once read, but an attempt that failed to connect (refused, TLS handshake) read none of it: it
 * goes to the next target whole, as nginx (`proxy_next_upstream error`) and Envoy
 * (`connect-failure`) retry it. Once an attempt connected, the body is spoken for: nothing more
 * is retried.
 *
 * The first target is listed with weight 5 and the other with 1, so a fresh gateway's
 * round-robin sends the first request to the first target (see retries_test.ts).
 */
import assert from "node:assert/strict";
import { freePort, startUpstream, within } from "../helpers/gateway.ts";
import {
  chunkedBody,
  LARGE,
  pattern,
  retriesOf,
  startBodyEcho,
  withGateway,
} from "./connect_retry_fixture.ts";

Deno.test("a body larger than maxBufferedBodyBytes goes whole to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      const res = await within(
        fetch(`${gw.url}/upload`, { method: "PUT", body: sent }),
        10_000,
        "the upload",
      );
      assert.equal(res.status, 200);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
      assert.deepEqual(echo.framing, [{ length: String(LARGE), chunked: false }]);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a chunked body goes whole to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      const res = await within(
        fetch(`${gw.url}/upload`, {
          method: "PUT",
          body: chunkedBody(sent),
          duplex: "half",
        } as RequestInit),
        10_000,
        "the upload",
      );
      assert.equal(res.status, 200);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
      assert.deepEqual(echo.framing, [{ length: null, chunked: true }]);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a streamed body goes to the next target when the TLS handshake with the first fails", async () => {
  // An https target on a plain-HTTP port: the handshake fails before any request byte is sent.
  const plain = startUpstream(() => new Response("plain"));
  const echo = startBodyEcho();
  try {
    await withGateway([`https://127.0.0.1:${plain.port}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      const res = await within(
        fetch(`${gw.url}/upload`, { method: "PUT", body: sent }),
        10_000,
        "the upload",
      );
      assert.equal(res.status, 200);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
      assert.equal(plain.received.length, 0);
      assert.equal(echo.framing.length, 1);
    });
  } finally {
    await plain.close();
    await echo.close();
  }
});

Deno.test("retryNonIdempotent: a large POST goes whole to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      const res = await fetch(`${gw.url}/upload`, { method: "POST", body: sent });
      assert.equal(res.status, 200);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
      const chunked = await fetch(`${gw.url}/upload`, {
        method: "POST",
        body: chunkedBody(sent),
        duplex: "half",
      } as RequestInit);
      assert.equal(chunked.status, 200);
      assert.deepEqual(new Uint8Array(await chunked.arrayBuffer()), sent);
      assert.equal(echo.framing.length, 2);
    }, { route: { retryNonIdempotent: true } });
  } finally {
    await echo.close();
  }
});

Deno.test("a streamed body is not retried once a target connected and read part of it", async () => {
  // Reads the head and some of the body, then hangs up without answering: a reset, retried for
  // a buffered body, but this one is partly gone.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let took = 0;
  const served = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(16_384);
    while (took < 32_768) {
      const n = await conn.read(buf);
      if (n === null) break;
      took += n;
    }
    conn.close();
  })();
  const echo = startBodyEcho();
  try {
    const first = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    await withGateway([first, echo.url], async (gw) => {
      const res = await fetch(`${gw.url}/upload`, { method: "PUT", body: pattern(LARGE) });
      assert.equal(res.status, 502);
      await res.body?.cancel();
      assert.ok(took > 0);
      assert.equal(echo.framing.length, 0);
      assert.equal(await retriesOf(gw), 0);
    });
  } finally {
    await served;
    listener.close();
    await echo.close();
  }
});
