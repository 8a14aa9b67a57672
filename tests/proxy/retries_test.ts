/**
 * Retries through a real gateway in front of real upstreams: what is retried (statuses in `on`,
 * connect failures, resets, per-try timeouts), where (another target whenever one exists), what
 * is not (non-idempotent methods, bodies that cannot be replayed, `retries: false`), and what
 * bounds retries (the total timeout, the retry budget).
 *
 * Every test turns outlier detection and the circuit breaker off unless it says otherwise: they
 * react to the same failures, and an ejection (which changes the targets picked) or an open
 * circuit (which refuses attempts) would change the attempt counts these tests isolate.
 *
 * The first target is listed with weight 5 and the others with 1. The round-robin balancer then
 * sends a fresh gateway's first request to `targets[0]`, and would pick it again for the retry
 * if tried targets were not excluded: a retry that lands elsewhere shows the exclusion works.
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** Resilience features that would skew attempt counts, turned off (see the header). */
const ISOLATED = { outlierDetection: false, circuitBreaker: false };

type Gateway = Awaited<ReturnType<typeof startTestGateway>>;

/**
 * Runs `body` against a gateway whose route `all` forwards to upstream `api` over `targets`,
 * then closes the gateway and every target (even when `body` throws).
 */
async function withGateway(
  targets: { url: string; close(): Promise<void> }[],
  upstream: Record<string, unknown>,
  body: (gw: Gateway) => Promise<void>,
  route: Record<string, unknown> = {},
): Promise<void> {
  try {
    const weighted = targets.map((t, i) => ({ url: t.url, weight: i === 0 ? 5 : 1 }));
    const gw = await startTestGateway({
      upstreams: { api: { targets: weighted, ...ISOLATED, ...upstream } },
      routes: [{ name: "all", upstream: "api", ...route }],
      // A request stuck in the gateway (a regression) must not hold the teardown for 10 s.
      limits: { drainTimeout: "2s" },
    });
    try {
      await body(gw);
    } finally {
      await gw.close();
    }
  } finally {
    for (const t of targets) await t.close();
  }
}

/** A counter of upstream `api` from admin `/metrics`; 0 before its first increment. */
async function apiCounter(gw: Gateway, name: string): Promise<number> {
  const metrics = await scrapeMetrics(gw.adminUrl!);
  return metrics.get(`${name}{upstream="api"}`) ?? 0;
}

const retriesOf = (gw: Gateway) => apiCounter(gw, "ferry_upstream_retries_total");

/** Two FlakyUpstreams: `a` answers 503, `b` answers 200. */
function failingThenHealthy(): [FlakyUpstream, FlakyUpstream] {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  a.behave = () => ({ kind: "status", status: 503 });
  return [a, b];
}

Deno.test("a GET answered 503 is retried on another target and the client gets its 200", async () => {
  const [a, b] = failingThenHealthy();
  await withGateway([a, b], {}, async (gw) => {
    assert.equal(await retriesOf(gw), 0);
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "b");
    assert.equal(a.count("/r"), 1, "the failing target was asked more than once");
    assert.equal(b.count("/r"), 1);
    assert.equal(await retriesOf(gw), 1);
  });
});

Deno.test("retries never repeat a target while others remain: 3 × 503 → one attempt each", async () => {
  const targets = ["a", "b", "c"].map((name) => FlakyUpstream.start(name));
  const order: string[] = [];
  for (const t of targets) {
    t.behave = () => {
      order.push(t.name);
      return { kind: "status", status: 503 };
    };
  }
  await withGateway(targets, { retries: { maxRetries: 2 } }, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    // Out of retries: the last upstream answer goes to the client as it came, not a problem.
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(res.headers.get("x-upstream"), order[2]);
    assert.equal(await res.text(), order[2]);
    assert.deepEqual(targets.map((t) => t.count("/r")), [1, 1, 1]);
    assert.deepEqual([...order].sort(), ["a", "b", "c"]);
    assert.equal(await retriesOf(gw), 2);
  });
});

Deno.test("with a single target a retry goes to that target again", async () => {
  const only = FlakyUpstream.start("only");
  only.behave = () => ({ kind: "status", status: 503 });
  await withGateway([only], { retries: { maxRetries: 1 } }, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "only");
    assert.equal(only.count("/r"), 2);
    assert.equal(await retriesOf(gw), 1);
  });
});

Deno.test("a connect failure (killed target) is retried on another target", async () => {
  const dead = FlakyUpstream.start("dead");
  const b = FlakyUpstream.start("b");
  dead.kill(); // The port now refuses connections.
  await withGateway([dead, b], {}, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "b");
    assert.equal(dead.count(), 0);
    assert.equal(b.count("/r"), 1);
    assert.equal(await retriesOf(gw), 1);
  });
});

Deno.test("a reset (connection closed without an answer) is retried on another target", async () => {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  a.behave = () => ({ kind: "reset" });
  await withGateway([a, b], {}, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "b");
    assert.equal(a.count("/r"), 1);
    assert.equal(await retriesOf(gw), 1);
  });
});

Deno.test("a 500 is not retried: it is not in the default `on` list", async () => {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  a.behave = () => ({ kind: "status", status: 500 });
  await withGateway([a, b], {}, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "a");
    assert.equal(a.count("/r"), 1);
    assert.equal(b.count(), 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("on: [timeout] retries a target that hangs past the per-try timeout", async () => {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  a.behave = () => ({ kind: "hang" });
  const upstream = { timeouts: { perTry: "200ms", total: "5s" }, retries: { on: ["timeout"] } };
  await withGateway([a, b], upstream, async (gw) => {
    const started = performance.now();
    const res = await fetch(`${gw.url}/r`);
    const elapsed = performance.now() - started;
    console.log(`per-try retry: 200 from the second target after ${elapsed.toFixed(1)} ms`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "b");
    assert.equal(a.count("/r"), 1);
    assert.ok(elapsed >= 200, `answered after ${elapsed} ms, before the per-try timeout`);
    assert.equal(await retriesOf(gw), 1);
  });
});

Deno.test("a POST is not retried by default: the 503 goes to the client", async () => {
  const [a, b] = failingThenHealthy();
  await withGateway([a, b], {}, async (gw) => {
    const res = await fetch(`${gw.url}/r`, { method: "POST", body: "payload" });
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "a");
    assert.equal(a.count("/r"), 1);
    assert.equal(b.count(), 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("retryNonIdempotent: a POST is retried with the identical buffered body", async () => {
  const [a, b] = failingThenHealthy();
  // Every byte value, so that a text decode/encode on the way would show.
  const sent = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);
  await withGateway([a, b], {}, async (gw) => {
    const res = await fetch(`${gw.url}/r`, { method: "POST", body: sent });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "b");
    assert.equal(a.count("/r"), 1);
    assert.equal(b.count("/r"), 1);
    for (const seen of [a.seen[0], b.seen[0]]) {
      assert.equal(seen.method, "POST");
      assert.equal(seen.headers.get("content-length"), String(sent.length));
      assert.deepEqual(seen.body, sent);
    }
    assert.equal(await retriesOf(gw), 1);
  }, { retryNonIdempotent: true });
});

Deno.test("a body larger than maxBufferedBodyBytes is streamed once and not retried", async () => {
  const [a, b] = failingThenHealthy();
  const sent = new Uint8Array(1024).fill(0x62);
  await withGateway([a, b], { retries: { maxBufferedBodyBytes: 16 } }, async (gw) => {
    const res = await fetch(`${gw.url}/r`, { method: "PUT", body: sent });
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "a");
    assert.equal(a.count("/r"), 1);
    assert.deepEqual(a.seen[0].body, sent, "the streamed body did not arrive whole");
    assert.equal(b.count(), 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("a chunked body (no Content-Length) is not retried", async () => {
  // Deno.serve upstreams here: FlakyUpstream reads Content-Length bodies only.
  const a = startUpstream(async (req) => {
    await req.arrayBuffer();
    return new Response("a", { status: 503 });
  });
  const b = startUpstream(() => new Response("b"));
  await withGateway([a, b], {}, async (gw) => {
    const body = ReadableStream.from([new Uint8Array(100).fill(0x63)]);
    const res = await fetch(`${gw.url}/r`, { method: "PUT", body, duplex: "half" } as RequestInit);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "a");
    assert.equal(a.received.length, 1);
    assert.equal(a.received[0].headers.get("content-length"), null, "the body was not chunked");
    assert.equal(b.received.length, 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("retries: false sends exactly one attempt", async () => {
  const [a, b] = failingThenHealthy();
  await withGateway([a, b], { retries: false }, async (gw) => {
    const res = await fetch(`${gw.url}/r`);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "a");
    assert.equal(a.count("/r"), 1);
    assert.equal(b.count(), 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("a retry whose backoff would end past the total timeout is not sent", async () => {
  const [a, b] = failingThenHealthy();
  // Full jitter draws the wait uniformly from [0, 1h): the retry is skipped unless the draw is
  // under the ~100 ms left, which happens with odds of about 3 in 100,000.
  const upstream = {
    timeouts: { total: "100ms" },
    retries: { backoff: { base: "1h", max: "1h" } },
  };
  await withGateway([a, b], upstream, async (gw) => {
    const started = performance.now();
    // Bounded: a gateway that slept through the backoff would hold the request for up to 1h.
    const res = await within(fetch(`${gw.url}/r`), 5000, "the request with a 1h backoff");
    const elapsed = performance.now() - started;
    console.log(`backoff past the deadline: 503 passed through after ${elapsed.toFixed(1)} ms`);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "a");
    assert.equal(a.count("/r"), 1);
    assert.equal(b.count(), 0);
    assert.equal(await retriesOf(gw), 0);
  });
});

Deno.test("the retry budget caps retries at its share of requests", async () => {
  const targets = ["a", "b"].map((name) => FlakyUpstream.start(name));
  for (const t of targets) t.behave = () => ({ kind: "status", status: 503 });
  const upstream = {
    retries: {
      maxRetries: 2,
      budget: { percent: 20, minPerSecond: 0 },
      backoff: { base: "1ms", max: "1ms" },
    },
  };
  const REQUESTS = 50;
  await withGateway(targets, upstream, async (gw) => {
    const attempts = () => targets.reduce((sum, t) => sum + t.count("/r"), 0);
    for (let i = 1; i <= REQUESTS; i++) {
      const res = await fetch(`${gw.url}/r`);
      assert.equal(res.status, 503);
      await res.body?.cancel();
      // Every request makes one first attempt; retries stay within 20% of requests so far.
      const allowed = i + Math.floor((i * 20) / 100);
      assert.ok(attempts() <= allowed, `after ${i} requests: ${attempts()} attempts > ${allowed}`);
    }
    const retries = await retriesOf(gw);
    const exhausted = await apiCounter(gw, "ferry_upstream_retry_budget_exhausted_total");
    console.log(
      `retry budget: ${REQUESTS} requests, ${attempts()} attempts ` +
        `(${targets.map((t) => `${t.name}=${t.count("/r")}`).join(", ")}), ` +
        `retries_total=${retries}, retry_budget_exhausted_total=${exhausted}`,
    );
    assert.equal(attempts(), REQUESTS + retries);
    // 20% of 50 requests in one 10 s window: exactly 10 retries, one per fifth request.
    assert.equal(retries, 10);
    assert.ok(exhausted > 0);
  });
});
