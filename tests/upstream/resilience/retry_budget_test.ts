/** RetryBudget: retries capped at a share of recent requests plus a small floor, over 10 s. */
import assert from "node:assert/strict";
import { RetryBudget } from "../../../src/upstream/resilience/retry_budget.ts";

// A whole second, so the budget's ten 1 s buckets line up with the steps below.
const T0 = 1_000_000;

/** Takes retries until the budget refuses (bounded); returns how many it granted. */
function drain(budget: RetryBudget, now: number, limit = 1000): number {
  let granted = 0;
  while (granted < limit && budget.tryRetry(now)) granted++;
  return granted;
}

Deno.test("20% of 100 requests allows exactly 20 retries, then refuses", () => {
  const budget = new RetryBudget(20, 0);
  for (let i = 0; i < 100; i++) budget.request(T0);
  for (let i = 0; i < 20; i++) assert.equal(budget.tryRetry(T0), true, `retry ${i + 1}`);
  assert.equal(budget.tryRetry(T0), false);
  assert.equal(budget.tryRetry(T0 + 5000), false);
});

Deno.test("without a floor and without requests no retry is allowed", () => {
  const budget = new RetryBudget(20, 0);
  assert.equal(budget.tryRetry(T0), false);
});

Deno.test("a refused retry takes nothing from the budget", () => {
  const budget = new RetryBudget(20, 0);
  for (let i = 0; i < 100; i++) budget.request(T0);
  assert.equal(drain(budget, T0), 20);
  for (let i = 0; i < 3; i++) assert.equal(budget.tryRetry(T0), false);
  // Five more requests make the allowance 21: exactly one more, had the refusals cost nothing.
  for (let i = 0; i < 5; i++) budget.request(T0);
  assert.equal(drain(budget, T0), 1);
});

Deno.test("the floor allows minPerSecond × 10 retries with no requests at all", () => {
  assert.equal(drain(new RetryBudget(20, 3), T0), 30);
  assert.equal(drain(new RetryBudget(0, 1), T0), 10);
});

Deno.test("the floor adds to the percentage", () => {
  const budget = new RetryBudget(20, 3);
  for (let i = 0; i < 10; i++) budget.request(T0);
  assert.equal(drain(budget, T0), 32); // 10 × 20% + 3 × 10
});

Deno.test("spent retries come back once they are 10 s old", () => {
  const budget = new RetryBudget(0, 1);
  assert.equal(drain(budget, T0), 10);
  assert.equal(budget.tryRetry(T0 + 9999), false);
  assert.equal(drain(budget, T0 + 10_000), 10);
});

Deno.test("requests older than 10 s no longer earn retries", () => {
  const budget = new RetryBudget(20, 0);
  for (let i = 0; i < 100; i++) budget.request(T0);
  assert.equal(budget.tryRetry(T0 + 10_000), false);
});
