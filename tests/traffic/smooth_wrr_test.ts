/** The generic smooth weighted round-robin: exact shares per period, spread out, deterministic. */
import assert from "node:assert/strict";
import { SmoothWeightedRoundRobin } from "../../src/traffic/smooth_wrr.ts";

function run(weights: number[], picks: number): number[] {
  const wrr = new SmoothWeightedRoundRobin(weights);
  return Array.from({ length: picks }, () => wrr.next());
}

Deno.test("95/5 over 10,000 picks is exactly 9,500/500", () => {
  const counts = [0, 0];
  for (const i of run([95, 5], 10_000)) counts[i]++;
  assert.deepEqual(counts, [9_500, 500]);
});

Deno.test("every period of sum(weights) picks holds each index exactly weight times", () => {
  const weights = [7, 2, 1];
  const picks = run(weights, 10 * 50);
  for (let period = 0; period < 50; period++) {
    const counts = [0, 0, 0];
    for (const i of picks.slice(period * 10, period * 10 + 10)) counts[i]++;
    assert.deepEqual(counts, weights, `period ${period}`);
  }
});

Deno.test("picks are spread out, not bunched: 5/1/1 gives a a b a c a a", () => {
  assert.deepEqual(run([5, 1, 1], 7), [0, 0, 1, 0, 2, 0, 0]);
  // 95/5: the small side comes once every 20 picks, never twice in a row.
  const picks = run([95, 5], 200);
  const smallAt = picks.flatMap((p, i) => (p === 1 ? [i] : []));
  assert.equal(smallAt.length, 10);
  for (let k = 1; k < smallAt.length; k++) assert.equal(smallAt[k] - smallAt[k - 1], 20);
});

Deno.test("two sequences with the same weights are identical (deterministic)", () => {
  assert.deepEqual(run([3, 5, 2], 100), run([3, 5, 2], 100));
});

Deno.test("weights that are not positive finite numbers are refused", () => {
  for (const bad of [[0, 1], [-1, 2], [Number.NaN], [Infinity, 1], []]) {
    assert.throws(() => new SmoothWeightedRoundRobin(bad), RangeError, JSON.stringify(bad));
  }
});
