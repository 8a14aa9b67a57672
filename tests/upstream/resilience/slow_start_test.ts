/**
 * SlowStart: a returning target's weight ramps from 10% to 100% in ten timer steps. The timers
 * are real; a TimerSet subclass reports each step as it runs, so the test follows the ramp step
 * by step instead of sleeping.
 */
import assert from "node:assert/strict";
import { SlowStart } from "../../../src/upstream/resilience/slow_start.ts";
import { TimerSet } from "../../../src/upstream/resilience/timer_set.ts";
import { Target } from "../../../src/upstream/target.ts";
import { within } from "../../helpers/gateway.ts";

/** A real TimerSet that remembers each delay, knows what is pending and reports each firing. */
class WatchedTimers extends TimerSet {
  readonly delays: number[] = [];
  readonly #pending = new Set<unknown>();
  #waiters: (() => void)[] = [];

  override after(ms: number, fn: () => void): ReturnType<TimerSet["after"]> {
    this.delays.push(ms);
    const id = super.after(ms, () => {
      this.#pending.delete(id);
      fn();
      for (const resolve of this.#waiters.splice(0)) resolve();
    });
    if (id !== undefined) this.#pending.add(id);
    return id;
  }

  override cancel(id: ReturnType<TimerSet["after"]>): void {
    this.#pending.delete(id);
    super.cancel(id);
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Resolves after the next timer callback has run. The deadlock guard's own timer also keeps
   * the test alive, since the TimerSet's timers are unref'd.
   */
  nextFiring(): Promise<void> {
    const fired = new Promise<void>((resolve) => this.#waiters.push(resolve));
    return within(fired, 5000, "waiting for a slow-start step");
  }
}

async function withTimers(body: (timers: WatchedTimers) => Promise<void> | void): Promise<void> {
  const timers = new WatchedTimers();
  try {
    await body(timers);
  } finally {
    timers.close();
  }
}

Deno.test("the weight starts at 10% and rises step by step to exactly the configured weight", async () => {
  await withTimers(async (timers) => {
    const target = new Target("http://127.0.0.1:9401", 10);
    const slowStart = new SlowStart(50, timers);
    slowStart.begin(target);
    assert.equal(target.weight, 1);
    assert.equal(slowStart.ramping(target), true);
    const weights = [target.weight];
    while (slowStart.ramping(target)) {
      await timers.nextFiring();
      weights.push(target.weight);
    }
    assert.deepEqual(weights, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(target.weight, target.configuredWeight);
    // Ten equal steps over the duration, the last one landing on 100%.
    assert.deepEqual(timers.delays, Array(9).fill(5));
    assert.equal(timers.pending, 0);
  });
});

Deno.test("an uneven weight still ends exactly on the configured weight", async () => {
  await withTimers(async (timers) => {
    const target = new Target("http://127.0.0.1:9401", 7);
    const slowStart = new SlowStart(20, timers);
    slowStart.begin(target);
    const weights = [target.weight];
    while (slowStart.ramping(target)) {
      await timers.nextFiring();
      weights.push(target.weight);
    }
    assert.equal(weights.length, 10);
    assert.ok(Math.abs(weights[0] - 0.7) < 1e-9, `${weights[0]}`);
    for (let i = 1; i < weights.length; i++) {
      assert.ok(weights[i] > weights[i - 1], `not rising: ${weights.join(", ")}`);
    }
    assert.equal(target.weight, 7); // exact, not 6.999…
  });
});

Deno.test("stop() freezes the weight where it is and leaves no step pending", async () => {
  await withTimers(async (timers) => {
    const target = new Target("http://127.0.0.1:9401", 10);
    const slowStart = new SlowStart(50, timers);
    slowStart.begin(target);
    await timers.nextFiring();
    assert.equal(target.weight, 2);
    slowStart.stop(target);
    assert.equal(slowStart.ramping(target), false);
    assert.equal(target.weight, 2);
    assert.equal(timers.pending, 0, "a pending step would move the weight later");
    slowStart.stop(target); // stopping twice is harmless
  });
});

Deno.test("begin() during a ramp restarts it from 10% with a single pending step", async () => {
  await withTimers(async (timers) => {
    const target = new Target("http://127.0.0.1:9401", 10);
    const slowStart = new SlowStart(50, timers);
    slowStart.begin(target);
    await timers.nextFiring();
    await timers.nextFiring();
    assert.equal(target.weight, 3);
    slowStart.begin(target);
    assert.equal(target.weight, 1);
    assert.equal(timers.pending, 1);
  });
});

Deno.test("duration 0 gives the full weight at once, with no timer", () => {
  const timers = new WatchedTimers();
  try {
    const target = new Target("http://127.0.0.1:9401", 10);
    target.weight = 3;
    const slowStart = new SlowStart(0, timers);
    slowStart.begin(target);
    assert.equal(target.weight, 10);
    assert.equal(slowStart.ramping(target), false);
    assert.deepEqual(timers.delays, []);
  } finally {
    timers.close();
  }
});

Deno.test("ramps of different targets are independent", async () => {
  await withTimers(async (timers) => {
    const a = new Target("http://127.0.0.1:9401", 10);
    const b = new Target("http://127.0.0.1:9402", 20);
    const slowStart = new SlowStart(50, timers);
    slowStart.begin(a);
    slowStart.begin(b);
    slowStart.stop(a);
    while (slowStart.ramping(b)) await timers.nextFiring();
    assert.equal(a.weight, 1);
    assert.equal(b.weight, 20);
  });
});
