/**
 * Shared setup of the connect-failure retry tests: a gateway over targets whose first one takes
 * the first request (listed with weight 5, the other with 1, so a fresh gateway's round-robin
 * starts there; see retries_test.ts), an echo upstream recording the framing it got, and bodies
 * whose bytes show a lost, repeated or shifted chunk.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** Outlier detection and the circuit breaker react to the failures too; off to isolate retries. */
const ISOLATED = { outlierDetection: false, circuitBreaker: false };

/** Under the default `maxBufferedBodyBytes` (65,536): buffered. */
export const SMALL = 1_000;
/** Larger than the default `maxBufferedBodyBytes`: streamed, never buffered. */
export const LARGE = 300_000;

/** Every byte value, in an order that shows a lost, repeated or shifted chunk. */
export function pattern(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + (i >> 8)) & 0xff;
  return out;
}

/** An upstream that answers 200 with the request body it read, and records what it got. */
export function startBodyEcho() {
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
  // A getter on the upstream itself: `Object.assign` would copy a getter's value once.
  return Object.defineProperties(upstream, {
    seen: { value: seen },
    /** How each request's body was framed. */
    framing: { get: () => seen.map(({ length, chunked }) => ({ length, chunked })) },
  }) as typeof upstream & {
    readonly seen: typeof seen;
    readonly framing: { length: string | null; chunked: boolean }[];
  };
}

export type Gateway = Awaited<ReturnType<typeof startTestGateway>>;

/**
 * Runs `body` against a gateway forwarding everything to `targets` (the first one weight 5),
 * with `upstream` and `route` settings added.
 */
export async function withGateway(
  targets: string[],
  body: (gw: Gateway) => Promise<void>,
  extra: { upstream?: Record<string, unknown>; route?: Record<string, unknown> } = {},
): Promise<void> {
  const weighted = targets.map((url, i) => ({ url, weight: i === 0 ? 5 : 1 }));
  const gw = await startTestGateway({
    upstreams: { api: { targets: weighted, ...ISOLATED, ...extra.upstream } },
    routes: [{ name: "all", upstream: "api", ...extra.route }],
    limits: { drainTimeout: "2s" },
  });
  try {
    await body(gw);
  } finally {
    await gw.close();
  }
}

/** Retries the gateway counted for the upstream `api`. */
export async function retriesOf(gw: Gateway): Promise<number> {
  const metrics = await scrapeMetrics(gw.adminUrl!);
  return metrics.get(`ferry_upstream_retries_total{upstream="api"}`) ?? 0;
}

/** `bytes` as a stream of 16 KiB chunks, which `fetch` sends chunked (no Content-Length). */
export function chunkedBody(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 16_384) chunks.push(bytes.slice(i, i + 16_384));
  return ReadableStream.from(chunks);
}

/** Sends `init` to the gateway; expects the echo's 200 with exactly `sent` back. */
export async function expectEchoed(
  gw: Gateway,
  init: RequestInit,
  sent: Uint8Array,
): Promise<void> {
  const res = await within(fetch(`${gw.url}/upload`, init), 10_000, "the request");
  assert.equal(res.status, 200);
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), sent);
}
