/** SlidingWindow: two counts over a ring of time buckets, with time passed in by the caller. */
import assert from "node:assert/strict";
import { SlidingWindow } from "../../../src/upstream/resilience/sliding_window.ts";

// A 1 s window in ten 100 ms buckets; T0 is a bucket boundary so the arithmetic below is exact.
const WINDOW_MS = 1000;
const T0 = 1_000_000;

Deno.test("counts added anywhere inside the window are summed", () => {
  const window = new SlidingWindow(WINDOW_MS);
  window.add(T0, 1, 0);
  window.add(T0 + 150, 1, 1);
  window.add(T0 + 950, 2, 1);
  window.add(T0 + 999, 0, 1); // a mark alone does not add to the plain count
  assert.equal(window.total(T0 + 999), 4);
  assert.equal(window.marked(T0 + 999), 3);
});

Deno.test("an empty window counts zero", () => {
  const window = new SlidingWindow(WINDOW_MS);
  assert.equal(window.total(T0), 0);
  assert.equal(window.marked(T0), 0);
});

Deno.test("buckets expire one by one as time moves past the window", () => {
  const window = new SlidingWindow(WINDOW_MS);
  window.add(T0, 1, 1); // bucket 0
  window.add(T0 + 100, 1, 0); // bucket 1
  window.add(T0 + 299, 1, 1); // bucket 2 (its last millisecond)
  // The last moment at which bucket 0 is still inside the window.
  assert.deepEqual(counts(window, T0 + 999), [3, 2]);
  assert.deepEqual(counts(window, T0 + 1000), [2, 1]); // bucket 0 gone
  assert.deepEqual(counts(window, T0 + 1099), [2, 1]);
  assert.deepEqual(counts(window, T0 + 1100), [1, 1]); // bucket 1 gone
  assert.deepEqual(counts(window, T0 + 1199), [1, 1]);
  assert.deepEqual(counts(window, T0 + 1200), [0, 0]); // bucket 2 gone: all within its 100 ms
});

Deno.test("a slot reused for a newer bucket starts from zero", () => {
  const window = new SlidingWindow(WINDOW_MS);
  window.add(T0, 5, 5);
  // One window later the same ring slot serves a new bucket: the old counts must not leak in.
  window.add(T0 + WINDOW_MS, 1, 0);
  assert.deepEqual(counts(window, T0 + WINDOW_MS), [1, 0]);
});

Deno.test("reset forgets every count, and counting resumes afresh", () => {
  const window = new SlidingWindow(WINDOW_MS);
  window.add(T0, 3, 2);
  window.add(T0 + 500, 4, 1);
  window.reset();
  assert.deepEqual(counts(window, T0 + 500), [0, 0]);
  window.add(T0 + 500, 1, 1);
  assert.deepEqual(counts(window, T0 + 500), [1, 1]);
});

Deno.test("after a gap much longer than the window nothing is left", () => {
  const window = new SlidingWindow(WINDOW_MS);
  for (let t = T0; t < T0 + WINDOW_MS; t += 50) window.add(t, 2, 1);
  assert.deepEqual(counts(window, T0 + WINDOW_MS - 1), [40, 20]);
  const later = T0 + 1_000 * WINDOW_MS + 37;
  assert.deepEqual(counts(window, later), [0, 0]);
  window.add(later, 1, 0);
  assert.deepEqual(counts(window, later), [1, 0]);
});

function counts(window: SlidingWindow, now: number): [number, number] {
  return [window.total(now), window.marked(now)];
}
