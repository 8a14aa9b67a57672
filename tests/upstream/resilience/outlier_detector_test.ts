/**
 * OutlierDetector: passive ejection on consecutive failures, the ejection cap, doubling
 * ejection times, half-open readmission. Ejections end on a real TimerSet with tiny durations;
 * tests wait for them through the listener, never by sleeping.
 */
import assert from "node:assert/strict";
import type { NormalizedOutlierDetection } from "../../../src/config/normalized.ts";
import {
  OutlierDetector,
  type OutlierListener,
} from "../../../src/upstream/resilience/outlier_detector.ts";
import { SlowStart } from "../../../src/upstream/resilience/slow_start.ts";
import { TimerSet } from "../../../src/upstream/resilience/timer_set.ts";
import { Target } from "../../../src/upstream/target.ts";
import { within } from "../../helpers/gateway.ts";

const T0 = 1_000_000;

/** Records every listener call and lets a test await the next readmission. */
class Recorder implements OutlierListener {
  readonly events: string[] = [];
  #readmissions: ((reason: string) => void)[] = [];

  ejected(target: Target, ms: number, reason: string): void {
    this.events.push(`ejected ${port(target)} for ${ms} ms: ${reason}`);
  }

  readmitted(target: Target, reason: string): void {
    this.events.push(`readmitted ${port(target)}: ${reason}`);
    for (const resolve of this.#readmissions.splice(0)) resolve(reason);
  }

  /**
   * Resolves with the reason of the next readmission. Call it before the timer can fire. The
   * TimerSet's timers are unref'd, so the deadlock guard's timer also keeps the test alive.
   */
  nextReadmission(): Promise<string> {
    const next = new Promise<string>((resolve) => this.#readmissions.push(resolve));
    return within(next, 5000, "waiting for a readmission");
  }

  /** The `ms` of every ejection so far, in order. */
  ejectionTimes(): number[] {
    return this.events.flatMap((e) => {
      const m = / for (\d+) ms:/.exec(e);
      return m ? [Number(m[1])] : [];
    });
  }
}

function port(target: Target): number {
  return target.address.port;
}

interface Setup {
  detector: OutlierDetector;
  targets: Target[];
  recorder: Recorder;
  timers: TimerSet;
}

/** Runs `body` against a detector over `count` targets; the timers are always closed. */
async function withDetector(
  count: number,
  overrides: Partial<NormalizedOutlierDetection>,
  body: (s: Setup) => void | Promise<void>,
): Promise<void> {
  const timers = new TimerSet();
  try {
    const config: NormalizedOutlierDetection = {
      consecutiveFailures: 3,
      baseEjectionMs: 30,
      maxEjectionMs: 10_000,
      maxEjectedPercent: 50,
      slowStartMs: 0,
      ...overrides,
    };
    const targets = Array.from(
      { length: count },
      (_, i) => new Target(`http://127.0.0.1:${9301 + i}`, 10),
    );
    const slowStart = new SlowStart(config.slowStartMs, timers);
    const recorder = new Recorder();
    const detector = new OutlierDetector(config, targets, slowStart, timers, recorder);
    await body({ detector, targets, recorder, timers });
  } finally {
    timers.close();
  }
}

function fail(detector: OutlierDetector, target: Target, times: number, now = T0): void {
  for (let i = 0; i < times; i++) detector.failure(target, now, "status 502");
}

Deno.test("a target is ejected after consecutiveFailures failures in a row", async () => {
  await withDetector(
    2,
    { consecutiveFailures: 3, baseEjectionMs: 30 },
    ({ detector, targets, recorder }) => {
      const [a, b] = targets;
      fail(detector, a, 2);
      assert.equal(a.ejected, false);
      assert.equal(a.consecutiveFailures, 2);
      detector.failure(a, T0 + 5, "reset");
      assert.equal(a.ejected, true);
      assert.equal(a.healthy, false);
      assert.equal(a.health, "ejected");
      assert.equal(a.ejectedUntil, T0 + 5 + 30);
      assert.equal(a.ejections, 1);
      assert.equal(a.ejectionLevel, 1);
      assert.equal(a.consecutiveFailures, 0);
      assert.equal(b.healthy, true);
      assert.deepEqual(recorder.events, [
        "ejected 9301 for 30 ms: 3 consecutive failures, the last: reset",
      ]);
    },
  );
});

Deno.test("a success in between resets the run of failures", async () => {
  await withDetector(2, { consecutiveFailures: 3 }, ({ detector, targets, recorder }) => {
    const [a] = targets;
    fail(detector, a, 2);
    detector.success(a, T0);
    assert.equal(a.consecutiveFailures, 0);
    fail(detector, a, 2);
    assert.equal(a.ejected, false, "2 + 2 failures with a success between are not 3 in a row");
    fail(detector, a, 1);
    assert.equal(a.ejected, true);
    assert.equal(recorder.events.length, 1);
  });
});

Deno.test("failures of attempts that were in flight when the target was ejected are ignored", async () => {
  await withDetector(2, { consecutiveFailures: 3 }, ({ detector, targets, recorder }) => {
    const [a] = targets;
    fail(detector, a, 3);
    fail(detector, a, 5);
    assert.equal(a.consecutiveFailures, 0);
    assert.equal(a.ejections, 1);
    assert.equal(recorder.events.length, 1);
  });
});

Deno.test("a lone target is never ejected", async () => {
  await withDetector(1, { consecutiveFailures: 3 }, ({ detector, targets, recorder }) => {
    fail(detector, targets[0], 20);
    assert.equal(targets[0].ejected, false);
    assert.equal(targets[0].healthy, true);
    assert.deepEqual(recorder.events, []);
  });
});

Deno.test("maxEjectedPercent 50 of 4 targets ejects at most 2", async () => {
  await withDetector(4, { maxEjectedPercent: 50 }, ({ detector, targets }) => {
    for (const t of targets) fail(detector, t, 3);
    assert.deepEqual(targets.map((t) => t.ejected), [true, true, false, false]);
    // The capped ones keep counting, so they go as soon as there is room.
    for (const t of targets) fail(detector, t, 1);
    assert.deepEqual(targets.map((t) => t.ejected), [true, true, false, false]);
    detector.uneject(targets[0], "test");
    fail(detector, targets[2], 1);
    assert.deepEqual(targets.map((t) => t.ejected), [false, true, true, false]);
  });
});

Deno.test("maxEjectedPercent 0 ejects nothing", async () => {
  await withDetector(4, { maxEjectedPercent: 0 }, ({ detector, targets, recorder }) => {
    for (const t of targets) fail(detector, t, 10);
    assert.deepEqual(targets.map((t) => t.ejected), [false, false, false, false]);
    assert.deepEqual(recorder.events, []);
  });
});

Deno.test("a small percentage still allows one ejection among two or more targets", async () => {
  await withDetector(3, { maxEjectedPercent: 10 }, ({ detector, targets }) => {
    for (const t of targets) fail(detector, t, 3);
    assert.deepEqual(targets.map((t) => t.ejected), [true, false, false]);
  });
});

Deno.test("the ejection ends after its time: the target returns half-open", async () => {
  await withDetector(2, { baseEjectionMs: 30 }, async ({ detector, targets, recorder }) => {
    const [a] = targets;
    const readmitted = recorder.nextReadmission();
    fail(detector, a, 3);
    assert.equal(await readmitted, "ejection of 30 ms ended");
    assert.equal(a.ejected, false);
    assert.equal(a.halfOpen, true);
    assert.equal(a.healthy, true);
    assert.equal(a.ejectedUntil, 0);
    assert.equal(a.weight, 10, "slow start off: full weight at once");
    assert.deepEqual(recorder.events, [
      "ejected 9301 for 30 ms: 3 consecutive failures, the last: status 502",
      "readmitted 9301: ejection of 30 ms ended",
    ]);
  });
});

Deno.test("half-open: one failure ejects again at once, for twice as long", async () => {
  await withDetector(2, { baseEjectionMs: 30 }, async ({ detector, targets, recorder }) => {
    const [a] = targets;
    const readmitted = recorder.nextReadmission();
    fail(detector, a, 3);
    await readmitted;
    detector.failure(a, T0, "connect refused");
    assert.equal(a.ejected, true);
    assert.equal(a.halfOpen, false);
    assert.equal(a.ejectionLevel, 2);
    assert.equal(
      recorder.events[2],
      "ejected 9301 for 60 ms: failed while half-open (connect refused)",
    );
  });
});

Deno.test("half-open: one success readmits for good, and a full run is needed again", async () => {
  await withDetector(2, { consecutiveFailures: 3 }, ({ detector, targets }) => {
    const [a] = targets;
    fail(detector, a, 3);
    detector.uneject(a, "test");
    assert.equal(a.halfOpen, true);
    detector.success(a, T0 + 100);
    assert.equal(a.halfOpen, false);
    assert.equal(a.recoveredAt, T0 + 100);
    fail(detector, a, 2, T0 + 100);
    assert.equal(a.ejected, false);
  });
});

Deno.test("each ejection in a row doubles the time, up to maxEjectionTime", async () => {
  await withDetector(
    2,
    { baseEjectionMs: 30, maxEjectionMs: 100 },
    ({ detector, targets, recorder }) => {
      const [a] = targets;
      fail(detector, a, 3);
      for (let i = 0; i < 4; i++) {
        detector.uneject(a, "test");
        detector.failure(a, T0, "status 503"); // half-open: ejected again at once
      }
      assert.deepEqual(recorder.ejectionTimes(), [30, 60, 100, 100, 100]);
      assert.equal(a.ejections, 5);
      assert.equal(a.ejectedUntil, T0 + 100);
    },
  );
});

Deno.test("the level decays by one for every baseEjectionTime the target stays healthy", async () => {
  // Four targets at 50%: two may be out at once, so both ejections below happen.
  await withDetector(4, { baseEjectionMs: 30 }, ({ detector, targets, recorder }) => {
    const [a, b, c] = targets;
    for (const t of [a, b, c]) {
      fail(detector, t, 3); // level 1
      detector.uneject(t, "test");
      detector.success(t, T0); // recovered at T0
    }
    fail(detector, a, 3, T0 + 29); // under one period healthy: no decay, 60 ms
    fail(detector, b, 3, T0 + 30); // one period: back to level 0, 30 ms
    detector.uneject(a, "test");
    fail(detector, c, 3, T0 + 1000); // many periods: never below level 0, 30 ms
    assert.deepEqual(recorder.ejectionTimes(), [30, 30, 30, 60, 30, 30]);
  });
});

Deno.test("time spent ejected does not count as healthy time for the level's decay", async () => {
  await withDetector(2, { baseEjectionMs: 30 }, ({ detector, targets, recorder }) => {
    const [a] = targets;
    fail(detector, a, 3, T0 - 100); // level 0 → 30 ms, level 1
    detector.uneject(a, "test");
    detector.success(a, T0); // recovered at T0
    fail(detector, a, 3, T0); // no healthy time since: 60 ms, level 2, out until T0 + 60
    detector.uneject(a, "test"); // comes back at T0 + 60 ...
    detector.failure(a, T0 + 61, "reset"); // ... and fails 1 ms later while half-open
    // It was healthy for 1 ms since T0, not 61: the doubling must go on to 120 ms.
    assert.deepEqual(recorder.ejectionTimes(), [30, 60, 120]);
  });
});

Deno.test("uneject ends an ejection early and cancels its timer", async () => {
  await withDetector(2, { baseEjectionMs: 30 }, async ({ detector, targets, recorder }) => {
    const [a, b] = targets;
    detector.uneject(b, "not ejected"); // nothing to end: no event
    fail(detector, a, 3); // a 30 ms timer
    detector.uneject(a, "an active health check passed");
    assert.equal(a.ejected, false);
    assert.equal(a.halfOpen, true);
    assert.equal(a.healthy, true);
    const readmitted = recorder.nextReadmission();
    detector.failure(a, T0, "reset"); // a 60 ms timer
    // Had the 30 ms timer survived, it would end this new ejection first and early.
    assert.equal(await readmitted, "ejection of 60 ms ended");
    assert.deepEqual(recorder.events, [
      "ejected 9301 for 30 ms: 3 consecutive failures, the last: status 502",
      "readmitted 9301: an active health check passed",
      "ejected 9301 for 60 ms: failed while half-open (reset)",
      "readmitted 9301: ejection of 60 ms ended",
    ]);
  });
});

Deno.test("readmission starts slow start and a new ejection stops it", () => {
  const timers = new TimerSet();
  try {
    const targets = [
      new Target("http://127.0.0.1:9301", 10),
      new Target("http://127.0.0.1:9302", 10),
    ];
    const slowStart = new SlowStart(60_000, timers);
    const config: NormalizedOutlierDetection = {
      consecutiveFailures: 1,
      baseEjectionMs: 30,
      maxEjectionMs: 10_000,
      maxEjectedPercent: 50,
      slowStartMs: 60_000,
    };
    const detector = new OutlierDetector(config, targets, slowStart, timers, new Recorder());
    const [a] = targets;
    detector.failure(a, T0, "reset");
    detector.uneject(a, "test");
    assert.equal(slowStart.ramping(a), true);
    assert.equal(a.weight, 1);
    detector.failure(a, T0, "reset");
    assert.equal(slowStart.ramping(a), false);
  } finally {
    timers.close();
  }
});
