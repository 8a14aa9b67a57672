/**
 * A request that failed to connect (refused, connect timeout, TLS handshake) sent nothing at all
 * to its target, so it cannot arrive twice: it goes to the next target whatever its method, as
 * nginx passes it on (its non-idempotent rule applies only once a request was sent) and Envoy's
 * `connect-failure` retries every method. `retryNonIdempotent` still decides every other failure
 * (a reset, a timeout, a retryable status) of a POST or PATCH.
 *
 * The first target is listed with weight 5 and the other with 1, so a fresh gateway's
 * round-robin sends the first request to the first target (see retries_test.ts).
 */
import assert from "node:assert/strict";
import { freePort, startUpstream } from "../helpers/gateway.ts";
import {
  chunkedBody,
  expectEchoed,
  LARGE,
  pattern,
  retriesOf,
  SMALL,
  startBodyEcho,
  withGateway,
} from "./connect_retry_fixture.ts";

Deno.test("a small POST goes to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(SMALL);
      await expectEchoed(gw, { method: "POST", body: sent }, sent);
      assert.deepEqual(echo.seen, [
        { method: "POST", length: String(SMALL), chunked: false, bytes: SMALL },
      ]);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a large streamed POST goes whole to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      await expectEchoed(gw, { method: "POST", body: sent }, sent);
      assert.deepEqual(echo.seen, [
        { method: "POST", length: String(LARGE), chunked: false, bytes: LARGE },
      ]);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a chunked PATCH goes whole to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const sent = pattern(LARGE);
      const init = { method: "PATCH", body: chunkedBody(sent), duplex: "half" } as RequestInit;
      await expectEchoed(gw, init, sent);
      assert.deepEqual(echo.seen, [{ method: "PATCH", length: null, chunked: true, bytes: LARGE }]);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a POST without a body goes to the next target when the first refuses connections", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      await expectEchoed(gw, { method: "POST" }, new Uint8Array(0));
      assert.equal(echo.seen.length, 1);
      assert.equal(await retriesOf(gw), 1);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("a POST goes to the next target when the TLS handshake with the first fails", async () => {
  // An https target on a plain-HTTP port: the handshake fails before any request byte is sent.
  const plain = startUpstream(() => new Response("plain"));
  const echo = startBodyEcho();
  try {
    await withGateway([`https://127.0.0.1:${plain.port}`, echo.url], async (gw) => {
      const sent = pattern(SMALL);
      await expectEchoed(gw, { method: "POST", body: sent }, sent);
      assert.equal(plain.received.length, 0);
      assert.equal(echo.seen.length, 1);
    });
  } finally {
    await plain.close();
    await echo.close();
  }
});

Deno.test("a POST that failed to connect is not retried with retries: false", async () => {
  const echo = startBodyEcho();
  try {
    await withGateway([`http://127.0.0.1:${freePort()}`, echo.url], async (gw) => {
      const res = await fetch(`${gw.url}/upload`, { method: "POST", body: pattern(SMALL) });
      assert.equal(res.status, 502);
      await res.body?.cancel();
      assert.equal(echo.seen.length, 0);
      assert.equal(await retriesOf(gw), 0);
    }, { upstream: { retries: false } });
  } finally {
    await echo.close();
  }
});

Deno.test("a small POST whose target connected and hung up is still not retried without retryNonIdempotent", async () => {
  // Reads the request, then closes without answering: a reset after the request was sent.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let took = 0;
  const served = (async () => {
    const conn = await listener.accept();
    const n = await conn.read(new Uint8Array(16_384));
    took = n ?? 0;
    conn.close();
  })();
  const echo = startBodyEcho();
  try {
    const first = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
    await withGateway([first, echo.url], async (gw) => {
      const res = await fetch(`${gw.url}/upload`, { method: "POST", body: pattern(SMALL) });
      assert.equal(res.status, 502);
      await res.body?.cancel();
      assert.ok(took > 0);
      assert.equal(echo.seen.length, 0);
      assert.equal(await retriesOf(gw), 0);
    });
  } finally {
    await served;
    listener.close();
    await echo.close();
  }
});

Deno.test("a POST answered 503 is still not retried without retryNonIdempotent", async () => {
  const failing = startUpstream(async (req) => {
    await req.arrayBuffer();
    return new Response("failing", { status: 503 });
  });
  const echo = startBodyEcho();
  try {
    await withGateway([failing.url, echo.url], async (gw) => {
      const res = await fetch(`${gw.url}/upload`, { method: "POST", body: pattern(SMALL) });
      assert.equal(res.status, 503);
      assert.equal(await res.text(), "failing");
      assert.equal(echo.seen.length, 0);
      assert.equal(await retriesOf(gw), 0);
    });
  } finally {
    await failing.close();
    await echo.close();
  }
});
