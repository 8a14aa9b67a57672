/**
 * HealthChecker driven by a scripted probe: every probe waits until the test answers it, so the
 * test steps through probes one at a time. The timers between probes are real (1 ms apart
 * unless a test measures them) and unref'd, so every wait carries a deadlock guard, which also
 * keeps the test's event loop alive.
 */
import assert from "node:assert/strict";
import type { NormalizedHealthCheck } from "../../../src/config/normalized.ts";
import {
  HealthChecker,
  type HealthListener,
} from "../../../src/upstream/resilience/health_checker.ts";
import { TimerSet } from "../../../src/upstream/resilience/timer_set.ts";
import { Target } from "../../../src/upstream/target.ts";
import { within } from "../../helpers/gateway.ts";

const GUARD_MS = 5000;

interface ProbeCall {
  target: Target;
  signal: AbortSignal;
  answer: PromiseWithResolvers<number>;
}

/** A probe function whose calls queue up until the test answers them. */
class ScriptedProbe {
  readonly calls: ProbeCall[] = [];
  #taken = 0;
  #waiters: (() => void)[] = [];

  readonly probe = (target: Target, signal: AbortSignal): Promise<number> => {
    const answer = Promise.withResolvers<number>();
    this.calls.push({ target, signal, answer });
    for (const wake of this.#waiters.splice(0)) wake();
    return answer.promise;
  };

  /** Resolves once at least `count` probes were sent. */
  async called(count: number): Promise<void> {
    while (this.calls.length < count) {
      const more = new Promise<void>((resolve) => this.#waiters.push(resolve));
      await within(more, GUARD_MS, `waiting for probe ${count}`);
    }
  }

  /** The next probe the test has not answered yet, waiting for it if needed. */
  async next(): Promise<ProbeCall> {
    await this.called(this.#taken + 1);
    return this.calls[this.#taken++];
  }

  /**
   * Answers the next probes in order (a status, or an Error to reject with), then waits for the
   * probe after the last one: it is sent only once that one was judged.
   */
  async answer(...outcomes: (number | Error)[]): Promise<void> {
    for (const outcome of outcomes) settle(await this.next(), outcome);
    await this.called(this.#taken + 1);
  }
}

function settle(call: ProbeCall, outcome: number | Error): void {
  if (typeof outcome === "number") call.answer.resolve(outcome);
  else call.answer.reject(outcome);
}

/** A real TimerSet that remembers every delay and reports when `closed` is consulted. */
class WatchedTimers extends TimerSet {
  readonly delays: number[] = [];
  #closedReads: (() => void)[] = [];

  override after(ms: number, fn: () => void): ReturnType<TimerSet["after"]> {
    this.delays.push(ms);
    return super.after(ms, fn);
  }

  override get closed(): boolean {
    for (const resolve of this.#closedReads.splice(0)) resolve();
    return super.closed;
  }

  /** Resolves when someone next asks whether the set is closed (a probe has settled). */
  nextClosedRead(): Promise<void> {
    const read = new Promise<void>((resolve) => this.#closedReads.push(resolve));
    return within(read, GUARD_MS, "waiting for the probe to settle");
  }
}

interface Setup {
  checker: HealthChecker;
  targets: Target[];
  probes: ScriptedProbe;
  timers: WatchedTimers;
  events: string[];
}

/** Runs `body` against a started checker; stops it and closes its timers whatever happens. */
async function withChecker(
  overrides: Partial<NormalizedHealthCheck>,
  body: (s: Setup) => Promise<void>,
  options: { targets?: number; random?: () => number } = {},
): Promise<void> {
  const config: NormalizedHealthCheck = {
    path: "/healthz",
    intervalMs: 1,
    jitterMs: 0,
    timeoutMs: 1,
    expectStatus: [[200, 299]],
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    host: null,
    ...overrides,
  };
  const targets = Array.from(
    { length: options.targets ?? 1 },
    (_, i) => new Target(`http://127.0.0.1:${9501 + i}`, 1),
  );
  const events: string[] = [];
  const listener: HealthListener = {
    changed: (t, passing, reason) => events.push(`${t.address.port} ${passing}: ${reason}`),
    passed: (t) => events.push(`${t.address.port} passed`),
  };
  const probes = new ScriptedProbe();
  const timers = new WatchedTimers();
  const checker = new HealthChecker(
    config,
    targets,
    probes.probe,
    timers,
    listener,
    options.random,
  );
  try {
    checker.start();
    await body({ checker, targets, probes, timers, events });
  } finally {
    checker.stop();
    timers.close();
  }
}

Deno.test("unhealthyThreshold failed probes in a row take the target out", async () => {
  await withChecker({ unhealthyThreshold: 3 }, async ({ checker, targets, probes, events }) => {
    const [t] = targets;
    await probes.answer(500, new Error("connection refused"));
    assert.equal(t.passingHealthChecks, true);
    assert.deepEqual(events, []);
    await probes.answer(503);
    assert.equal(t.passingHealthChecks, false);
    assert.equal(t.healthy, false);
    assert.equal(t.health, "failing_health_checks");
    assert.equal(checker.lastResult(t), "status 503");
    assert.deepEqual(events, ["9501 false: 3 health checks failed in a row, the last: status 503"]);
    await probes.answer(new Error("still down"));
    assert.equal(events.length, 1, "only the transition is reported");
    assert.equal(checker.lastResult(t), "still down");
  });
});

Deno.test("a passing probe between failures resets the failure run", async () => {
  await withChecker({ unhealthyThreshold: 3 }, async ({ targets, probes, events }) => {
    const [t] = targets;
    await probes.answer(500, 500, 200, 500, 500);
    assert.equal(t.passingHealthChecks, true);
    assert.deepEqual(events, ["9501 passed"]);
    await probes.answer(500);
    assert.equal(t.passingHealthChecks, false);
  });
});

Deno.test("healthyThreshold passing probes in a row bring the target back", async () => {
  await withChecker(
    { unhealthyThreshold: 1, healthyThreshold: 2 },
    async ({ checker, targets, probes, events }) => {
      const [t] = targets;
      await probes.answer(500);
      assert.equal(t.passingHealthChecks, false);
      await probes.answer(200, 500, 200); // a failure between passes starts the count over
      assert.equal(t.passingHealthChecks, false);
      assert.deepEqual(events, [
        "9501 false: 1 health checks failed in a row, the last: status 500",
      ]);
      await probes.answer(204);
      assert.equal(t.passingHealthChecks, true);
      assert.equal(t.healthy, true);
      assert.equal(checker.lastResult(t), "status 204");
      assert.deepEqual(events.slice(1), [
        "9501 true: 2 health checks passed in a row",
        "9501 passed",
      ]);
    },
  );
});

Deno.test("passed() is reported for every passing probe while passing, never while failing", async () => {
  await withChecker(
    { unhealthyThreshold: 1, healthyThreshold: 3 },
    async ({ probes, events }) => {
      await probes.answer(200, 200);
      assert.deepEqual(events, ["9501 passed", "9501 passed"]);
      await probes.answer(500, 200, 200);
      assert.equal(events.filter((e) => e.endsWith("passed")).length, 2);
      await probes.answer(200, 200);
      assert.deepEqual(events.slice(2), [
        "9501 false: 1 health checks failed in a row, the last: status 500",
        "9501 true: 3 health checks passed in a row",
        "9501 passed",
        "9501 passed",
      ]);
    },
  );
});

Deno.test("expectStatus ranges decide which statuses pass, bounds included", async () => {
  await withChecker(
    { expectStatus: [[200, 299], [404, 404]], unhealthyThreshold: 1, healthyThreshold: 1 },
    async ({ checker, targets, probes }) => {
      const [t] = targets;
      const seen: [number, boolean][] = [];
      for (const status of [199, 200, 299, 300, 404, 405, 403, 204, 500]) {
        await probes.answer(status);
        seen.push([status, t.passingHealthChecks]);
      }
      assert.deepEqual(seen, [
        [199, false],
        [200, true],
        [299, true],
        [300, false],
        [404, true],
        [405, false],
        [403, false],
        [204, true],
        [500, false],
      ]);
      assert.equal(checker.lastResult(t), "status 500");
    },
  );
});

Deno.test("every target is probed at once on start, and judged on its own", async () => {
  await withChecker({ unhealthyThreshold: 1 }, async ({ targets, probes }) => {
    const [a, b] = targets;
    // start() sent both first probes synchronously: no timer stands before them.
    assert.deepEqual(probes.calls.map((c) => c.target), [a, b]);
    for (const call of probes.calls.slice()) settle(call, call.target === a ? 500 : 200);
    await probes.called(4);
    assert.equal(a.passingHealthChecks, false);
    assert.equal(b.passingHealthChecks, true);
  }, { targets: 2 });
});

Deno.test("the next probe waits interval + random × jitter from the end of the last one", async () => {
  const draws = [0, 0.5, 0.999];
  const random = () => {
    assert.ok(draws.length > 0, "more random draws than scripted");
    return draws.shift()!;
  };
  await withChecker({ intervalMs: 5, jitterMs: 100 }, async ({ probes, timers }) => {
    const first = await probes.next();
    assert.deepEqual(timers.delays, [], "no timer while a probe is in flight");
    settle(first, 200);
    await probes.answer(200, 500);
    assert.deepEqual(timers.delays, [5, 55, 104.9]);
  }, { random });
});

Deno.test("stop() aborts the probe in flight, and closed timers end the cycle", async () => {
  await withChecker(
    { unhealthyThreshold: 1 },
    async ({ checker, targets, probes, timers, events }) => {
      const call = await probes.next();
      assert.equal(call.signal.aborted, false);
      checker.stop();
      assert.equal(call.signal.aborted, true);
      timers.close();
      const settled = timers.nextClosedRead();
      call.answer.reject(call.signal.reason);
      await settled;
      // The aborted probe is neither judged nor followed by another one.
      assert.equal(targets[0].passingHealthChecks, true);
      assert.deepEqual(events, []);
      assert.deepEqual(timers.delays, []);
      assert.equal(probes.calls.length, 1);
    },
  );
});
