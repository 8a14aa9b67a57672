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
import { freePort, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** Outlier detection and the circuit breaker react to the failures too; off to isolate retries. */
const ISOLATED = { outlierDetection: false, circuitBreaker: false };

/** Under the default `maxBufferedBodyBytes` (65,536). */
const SMALL = 1_000;
/** Larger than the default `maxBufferedBodyBytes`: streamed, never buffered. */
const LARGE = 300_000;

/** Every byte value, in an order that shows a lost, repeated or shifted chunk. */
function pattern(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

/** An upstream that answers 200 with the request body it read, and records what it got. */
function startBodyEcho() {
  const seen: { method: string; length: string | null; chunked: boolean; bytes: number }[] = [];
  const upstream = startUpstream(async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    seen.push({
      method: req.method,
      length: req.headers.get("content-length"),
      chunked: req.headers.get("transfer-encoding") === "chunked",
      bytes: body.length,
    });
    return new Response(body);
  });
  return Object.assign(upstream, { seen });
}

type Gateway = Awaited<ReturnType<typeof startTestGateway>>;

/** Runs `body` against a gateway forwarding everything to `targets` (first one weight 5). */
async function withGateway(
  targets: string[],
  body: (gw: Gateway) => Promise<void>,
  upstream: Record<string, unknown> = {},
): Promise<void> {
  const weighted = targets.map((url, i) => ({ url, weight: i === 0 ? 5 : 1 }));
  const gw = await startTestGateway({
    upstreams: { api: { targets: weighted, ...ISOLATED, ...upstream } },
    routes: [{ name: "all", upstream: "api" }],
    limits: { drainTimeout: "2s" },
  });
  try {
    await body(gw);
  } finally {
    await gw.close();
  }
}

async function retriesOf(gw: Gateway): Promise<number> {
  const metrics = await scrapeMetrics(gw.adminUrl!);
  return metrics.get(`ferry_upstream_retries_total{upstream="api"}`) ?? 0;
}

/** `bytes` as a stream of 16 KiB chunks, which `fetch` sends chunked (no Content-Length). */
function chunkedBody(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 16_384) chunks.push(bytes.slice(i, i + 16_384));
  return ReadableStream.from(chunks);
}

/** Sends `init` to the gateway; expects the echo's 200 with exactly `sent` back. */
async function expectEchoed(gw: Gateway, init: RequestInit, sent: Uint8Array): Promise<void> {
  const res = await within(fetch(`${gw.url}/upload`, init), 10_000, "the request");
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
}

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
    }, { retries: false });
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
