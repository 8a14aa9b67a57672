/**
 * Ferry's event-loop-lag metric: exact statistics from recorded samples, a fixed-size ring, the
 * gauges on a real gateway's `/metrics` moving when the loop is blocked, and no use of
 * `perf_hooks.monitorEventLoopDelay` (whose native buffer grows without bound under Deno).
 */
import assert from "node:assert/strict";
import perfHooks from "node:perf_hooks";
import { EventLoopLag, MAX_SAMPLES } from "../../src/observe/event_loop_lag.ts";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { pollUntil } from "../helpers/process.ts";

Deno.test("event loop lag: statistics over the samples since the last take", () => {
  const lag = new EventLoopLag();
  // 1..100 ms and one early tick (0): 101 samples, nearest-rank p50 50, p90 90, p99 99 ms.
  for (let ms = 100; ms >= 1; ms--) lag.record(ms / 1000);
  lag.record(-0.002); // a timer that fired early counts as no lag
  const s = lag.take();
  assert.equal(s.count, 101);
  assert.equal(s.min, 0);
  assert.equal(s.max, 0.1);
  assert.equal(s.latest, 0);
  assert.equal(s.p50, 0.05);
  assert.equal(s.p90, 0.09);
  assert.equal(s.p99, 0.099);
  assert.ok(Math.abs(s.mean - 5.05 / 101) < 1e-12, `mean ${s.mean}`);
  // A take starts a new period: nothing recorded since, every figure 0.
  const empty = lag.take();
  assert.equal(empty.count, 0);
  assert.ok(Object.values(empty).every((v) => v === 0), JSON.stringify(empty));
});

Deno.test("event loop lag: the ring keeps only the latest samples, however many arrive", () => {
  const lag = new EventLoopLag();
  const total = MAX_SAMPLES + 904;
  for (let i = 0; i < total; i++) lag.record(i / 1e6);
  const s = lag.take();
  assert.equal(s.count, MAX_SAMPLES);
  assert.equal(s.min, 904 / 1e6);
  assert.equal(s.max, (total - 1) / 1e6);
});

Deno.test("event loop lag: a blocked loop shows on /metrics, and monitorEventLoopDelay is never used", async () => {
  const original = perfHooks.monitorEventLoopDelay;
  let used = 0;
  (perfHooks as { monitorEventLoopDelay: typeof original }).monitorEventLoopDelay = (options) => {
    used++;
    return original(options);
  };
  const upstream = startUpstream(() => new Response("ok"));
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ upstream: "api" }],
    });
    try {
      // Busy for 60 ms: the sampler's next tick comes at least 50 ms late.
      const until = performance.now() + 60;
      while (performance.now() < until) { /* block the event loop */ }
      // Each scrape takes the samples since the one before; the late tick shows in one of them.
      await pollUntil("the blocked loop to show in the lag", async () => {
        const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
        const max = Number(/^ferry_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
        assert.match(text, /^ferry_nodejs_eventloop_lag_p99_seconds \S+$/m);
        return max >= 0.05;
      });
    } finally {
      await gw.close();
    }
    assert.equal(used, 0, "perf_hooks.monitorEventLoopDelay was enabled");
  } finally {
    (perfHooks as { monitorEventLoopDelay: typeof original }).monitorEventLoopDelay = original;
    await upstream.close();
  }
});
