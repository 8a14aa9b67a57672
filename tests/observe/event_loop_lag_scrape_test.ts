/**
 * The event-loop-lag gauges on one scrape all describe the same period: the samples since the
 * scrape before. The statistics are computed by one gauge's collect; a gauge whose value is read
 * before that collect runs shows the previous period instead (one scrape stale).
 */
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { EventLoopLag, registerEventLoopLag } from "../../src/observe/event_loop_lag.ts";

/** `name value` lines of an exposition, by name (these gauges carry no labels). */
function values(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const [name, value] = line.split(" ");
    out.set(name, Number(value));
  }
  return out;
}

Deno.test("event loop lag: min/max/mean/percentiles on a scrape are this period's, not the last", async () => {
  // Not started: only the samples recorded here exist, so every figure is known exactly.
  const lag = new EventLoopLag();
  const registry = new Registry();
  registerEventLoopLag(registry, "t_", lag);

  lag.record(0.2);
  lag.record(0.4);
  const first = values(await registry.metrics());
  assert.equal(first.get("t_nodejs_eventloop_lag_seconds"), 0.4, "latest");
  assert.equal(first.get("t_nodejs_eventloop_lag_min_seconds"), 0.2);
  assert.equal(first.get("t_nodejs_eventloop_lag_max_seconds"), 0.4);
  assert.equal(first.get("t_nodejs_eventloop_lag_mean_seconds"), 0.30000000000000004);
  assert.equal(first.get("t_nodejs_eventloop_lag_p50_seconds"), 0.2);
  assert.equal(first.get("t_nodejs_eventloop_lag_p99_seconds"), 0.4);

  // Nothing recorded since: the new period is empty, its statistics 0, not the last period's.
  const second = values(await registry.metrics());
  assert.equal(second.get("t_nodejs_eventloop_lag_max_seconds"), 0);
  assert.equal(second.get("t_nodejs_eventloop_lag_p99_seconds"), 0);
});
