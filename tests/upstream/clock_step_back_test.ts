/**
 * The circuit breaker, retry budget and their sliding window take wall-clock time from the
 * caller (`Date.now()`), and a wall clock can step backwards (NTP correction, VM resumed from a
 * snapshot). Such a step must not stretch an open circuit by the size of the step, nor let
 * counts that now look "in the future" decide anything for that long.
 */
import assert from "node:assert/strict";
import {
  ADMITTED,
  CircuitBreaker,
  REFUSED,
} from "../../src/upstream/resilience/circuit_breaker.ts";
import { RetryBudget } from "../../src/upstream/resilience/retry_budget.ts";
import { SlidingWindow } from "../../src/upstream/resilience/sliding_window.ts";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
/** An hour and 5 s back: a different slot of a 10-bucket ring than `T0`'s. */
const STEP_BACK = HOUR + 5_000;

function trippedBreaker() {
  const circuit = new CircuitBreaker({
    failurePercent: 50,
    minRequests: 2,
    windowMs: 10_000,
    openForMs: 1000,
    maxOpenForMs: 5000,
    halfOpenProbes: 1,
  }, () => {});
  for (let i = 0; i < 2; i++) circuit.record(T0, circuit.admit(T0), true);
  assert.equal(circuit.state, "open");
  return circuit;
}

Deno.test("an open circuit stays open at most openFor after the clock steps back an hour", () => {
  const circuit = trippedBreaker();
  const back = T0 - HOUR;
  assert.equal(circuit.admit(back), REFUSED, "still open right after the step");
  assert.ok(
    circuit.retryAfterSeconds(back) <= 1,
    `Retry-After says ${circuit.retryAfterSeconds(back)} s for a 1 s open time`,
  );
  assert.notEqual(circuit.admit(back + 1000), REFUSED, "open for the whole step, not openFor");
  assert.equal(circuit.state, "half_open");
});

Deno.test("a step back does not shorten the open time either", () => {
  const circuit = trippedBreaker();
  assert.equal(circuit.admit(T0 - HOUR), REFUSED);
  assert.equal(circuit.admit(T0 - HOUR + 999), REFUSED);
  assert.notEqual(circuit.admit(T0 - HOUR + 1000), REFUSED);
});

Deno.test("sliding window: counts stamped after a backward step's 'now' are not counted", () => {
  const window = new SlidingWindow(10_000);
  window.add(T0, 5, 5);
  assert.equal(window.total(T0), 5);
  // An hour earlier by the clock, those counts are from the future: nothing this window saw.
  assert.equal(window.total(T0 - STEP_BACK), 0);
  assert.equal(window.marked(T0 - STEP_BACK), 0);
});

Deno.test("sliding window: a read a moment earlier than the last add leaves the counts in place", () => {
  const window = new SlidingWindow(10_000);
  window.add(T0 + 1000, 2, 1);
  assert.equal(window.total(T0), 0, "a later bucket is not part of an earlier window");
  assert.equal(window.total(T0 + 1000), 2);
  assert.equal(window.marked(T0 + 1000), 1);
});

Deno.test("retry budget: retries spent before the clock stepped back do not starve the next hour", () => {
  const budget = new RetryBudget(20, 1); // a floor of 1/s: 10 retries per 10 s
  let spent = 0;
  while (budget.tryRetry(T0)) spent++;
  assert.equal(spent, 10);
  const back = T0 - STEP_BACK;
  spent = 0;
  while (budget.tryRetry(back) && spent < 100) spent++;
  assert.equal(spent, 10, "the floor is spent by retries stamped in the 'future'");
});

Deno.test("closed-circuit counts before a step back do not trip it afterwards", () => {
  const circuit = new CircuitBreaker({
    failurePercent: 50,
    minRequests: 4,
    windowMs: 10_000,
    openForMs: 1000,
    maxOpenForMs: 5000,
    halfOpenProbes: 1,
  }, () => {});
  for (let i = 0; i < 3; i++) circuit.record(T0, ADMITTED, true);
  assert.equal(circuit.state, "closed");
  // After the step, one failure in four is not half of them.
  const back = T0 - STEP_BACK;
  for (let i = 0; i < 3; i++) circuit.record(back, ADMITTED, false);
  circuit.record(back, ADMITTED, true);
  assert.equal(circuit.state, "closed");
});
