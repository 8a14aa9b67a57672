/**
 * Outlier detection must never take the last target in rotation out. A lone target is never
 * ejected (with nowhere else to send, the upstream's own answers, or the circuit breaker's fast
 * 503, beat "no healthy target"), and the same holds when the other targets are already out
 * for another reason: failing active health checks, or an ejection cap of 100%. Ejecting it
 * anyway turned every request into `503 no-healthy-target` for the whole ejection time, even
 * after the target recovered.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/observe/logger.ts";
import type { LogLevel } from "../../src/observe/logger.ts";
import type { NormalizedOutlierDetection } from "../../src/config/normalized.ts";
import { OutlierDetector } from "../../src/upstream/resilience/outlier_detector.ts";
import { SlowStart } from "../../src/upstream/resilience/slow_start.ts";
import { TimerSet } from "../../src/upstream/resilience/timer_set.ts";
import { Target } from "../../src/upstream/target.ts";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** A memory logger that lets a test await the first line with a given message. */
class WatchedLogger extends MemoryLogger {
  readonly #waiters: [string, () => void][] = [];

  override log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    super.log(level, message, fields);
    for (const [i, [wanted, resolve]] of [...this.#waiters.entries()].reverse()) {
      if (wanted === message) {
        this.#waiters.splice(i, 1);
        resolve();
      }
    }
  }

  next(message: string): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push([message, resolve]);
    return promise;
  }
}

Deno.test("a target left alone by failing health checks of the others is not ejected", async () => {
  // `sick` fails its health check; `busy` passes it but answers real traffic with 502.
  const sick = startUpstream(() => new Response("no", { status: 500 }));
  const busy = startUpstream((req) =>
    new URL(req.url).pathname === "/healthz"
      ? new Response("ok")
      : new Response("overloaded", { status: 502 })
  );
  const logger = new WatchedLogger();
  const down = logger.next("upstream target down");
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [sick.url, busy.url],
        // One probe each at start; the next would come an hour later.
        healthCheck: { path: "/healthz", interval: "1h", jitter: "0ms", unhealthyThreshold: 1 },
        outlierDetection: { consecutiveFailures: 2 },
        circuitBreaker: false,
        retries: false,
      },
    },
    routes: [{ upstream: "api" }],
  }, { logger });
  try {
    await within(down, 5000, "the sick target never left rotation");
    const [sickTarget] = gw.snapshot.upstreams.get("api")!.targets;
    assert.equal(sickTarget.healthy, false, "the sick target failed its health check");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/work`);
      await res.body?.cancel();
      statuses.push(res.status);
    }
    // The busy target is the only one left: its own answers reach the client.
    assert.deepEqual(statuses, [502, 502, 502, 502]);
    assert.equal(logger.lines.some((l) => l.message === "upstream target ejected"), false);
  } finally {
    await gw.close();
    await sick.close();
    await busy.close();
  }
});

function outlierConfig(percent: number): NormalizedOutlierDetection {
  return {
    consecutiveFailures: 1,
    baseEjectionMs: 60_000,
    maxEjectionMs: 60_000,
    maxEjectedPercent: percent,
    slowStartMs: 0,
  };
}

Deno.test("maxEjectedPercent 100 still leaves one target in rotation", () => {
  const timers = new TimerSet();
  try {
    const targets = [1, 2, 3].map((p) => new Target(`http://127.0.0.1:${p}`, 1));
    const ejected: string[] = [];
    const detector = new OutlierDetector(
      outlierConfig(100),
      targets,
      new SlowStart(0, timers),
      timers,
      { ejected: (t) => ejected.push(t.url), readmitted() {} },
    );
    for (const t of targets) detector.failure(t, 1_000, "status 502");
    assert.deepEqual(ejected, ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    assert.equal(targets[2].healthy, true, "the last target in rotation was ejected");
  } finally {
    timers.close();
  }
});
