/**
 * The shared deadline timer of an upstream client. Retries are given whatever is left of the
 * request's total time, so their durations are all different: the queue must not keep a list
 * for every duration it ever saw.
 */
import assert from "node:assert/strict";
import { Deadline, DeadlineQueue } from "../../src/upstream/http1/deadlines.ts";

const ignore = { onDeadline() {} };

/**
 * The queue's timer is unref'd (it never keeps a gateway alive), so a test awaiting it holds the
 * event loop open with a timer of its own that never fires before the test ends.
 */
async function awaitWithLoopHeld(promise: Promise<void>): Promise<void> {
  const hold = setTimeout(() => {}, 10_000);
  try {
    await promise;
  } finally {
    clearTimeout(hold);
  }
}

Deno.test("one-off durations do not pile up in the deadline queue", () => {
  const queue = new DeadlineQueue();
  const d = new Deadline(ignore);
  // What retries do with the default 30 s total: each gets the milliseconds left.
  for (let ms = 1; ms <= 5_000; ms++) {
    queue.start(d, ms);
    queue.stop(d);
  }
  assert.ok(queue.durations <= 16, `the queue kept ${queue.durations} duration lists`);
  queue.clear();
});

Deno.test("a deadline still fires after its duration's list was dropped and made anew", async () => {
  const queue = new DeadlineQueue();
  const d = new Deadline(ignore);
  for (let ms = 1; ms <= 100; ms++) {
    queue.start(d, 1_000 + ms);
    queue.stop(d);
  }
  // 5 ms was seen before (and its list dropped, or at least emptied): it must fire again.
  let fired!: () => void;
  const firing = new Promise<void>((resolve) => fired = resolve);
  const early = new Deadline(ignore);
  queue.start(early, 5);
  queue.stop(early);
  const late = new Deadline({ onDeadline: () => fired() });
  queue.start(late, 5);
  // A long deadline keeps another list busy, as requests in flight would.
  const pending = new Deadline(ignore);
  queue.start(pending, 60_000);
  try {
    await awaitWithLoopHeld(firing);
  } finally {
    queue.clear();
  }
});

Deno.test("deadlines of many durations armed at once each fire once", async () => {
  const queue = new DeadlineQueue();
  const order: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => done = resolve);
  const durations = [30, 1, 20, 5, 10, 2, 25, 3, 15, 4, 7, 6, 9, 8, 11, 12, 13, 14, 16, 17, 18];
  for (const ms of durations) {
    queue.start(
      new Deadline({
        onDeadline() {
          order.push(ms);
          if (order.length === durations.length) done();
        },
      }),
      ms,
    );
  }
  await awaitWithLoopHeld(all);
  // Deadlines that are due at the same timer turn fire together, in no promised order.
  assert.deepEqual(order.sort((a, b) => a - b), [...durations].sort((a, b) => a - b));
  assert.ok(queue.durations <= 16, `the queue kept ${queue.durations} duration lists`);
});
