/**
 * Resilience durations that must be above zero: a circuit breaker's window and open times, and
 * outlier detection's ejection times. Zero (or a fraction that rounds to 0 ms) made no sense and
 * was accepted: a window of 0 ms counted over 10 ms instead, a circuit "open" for 0 ms refused
 * nothing, an ejection of 0 ms readmitted the target at once.
 *
 * Numbers and orders that were already refused (failurePercent 0 or above 100, minRequests 0,
 * halfOpenProbes 0, backoff.base above backoff.max) are covered in resilience_config_test.ts.
 */
import assert from "node:assert/strict";
import type { ConfigIssue } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

/** A config with one upstream `users` holding `settings`, and one route to it. */
function config(settings: Record<string, unknown>) {
  return {
    upstreams: { users: { targets: ["http://127.0.0.1:3000"], ...settings } },
    routes: [{ upstream: "users" }],
  };
}

function errorsOf(settings: Record<string, unknown>): ConfigIssue[] {
  const result = validateConfig(config(settings));
  assert.equal(result.ok, false, `expected ${JSON.stringify(settings)} to be refused`);
  return result.ok ? [] : result.errors;
}

/** `[section, field, what zero would mean]` for every duration that must be above zero. */
const MUST_BE_ABOVE_ZERO = [
  ["circuitBreaker", "window", /a window of 0 spans no attempts to judge/],
  ["circuitBreaker", "openFor", /a circuit open for 0 refuses nothing/],
  ["circuitBreaker", "maxOpenFor", /a circuit open for 0 refuses nothing/],
  ["outlierDetection", "baseEjectionTime", /outlierDetection: false/],
  ["outlierDetection", "maxEjectionTime", /outlierDetection: false/],
] as const;

for (const [section, field, why] of MUST_BE_ABOVE_ZERO) {
  Deno.test(`${section}.${field} "0ms" is one error at its path`, () => {
    const errors = errorsOf({ [section]: { [field]: "0ms" } });
    assert.deepEqual(
      errors.map((e) => e.path),
      [`upstreams.users.${section}.${field}`],
      JSON.stringify(errors),
    );
    assert.match(errors[0].message, /^expected a duration above 0, got "0ms": /);
    assert.match(errors[0].message, why);
  });

  Deno.test(`${section}.${field} of a fraction that rounds to 0 ms is refused too`, () => {
    const errors = errorsOf({ [section]: { [field]: "0.4ms" } });
    assert.deepEqual(errors.map((e) => e.path), [`upstreams.users.${section}.${field}`]);
    assert.match(errors[0].message, /above 0, got "0.4ms"/);
  });

  Deno.test(`${section}.${field} "0s" is refused whatever the unit`, () => {
    const errors = errorsOf({ [section]: { [field]: "0s" } });
    assert.deepEqual(errors.map((e) => e.path), [`upstreams.users.${section}.${field}`]);
  });
}

Deno.test("every zero resilience duration is reported at once, one error each", () => {
  const errors = errorsOf({
    circuitBreaker: { window: "0ms", openFor: "0ms", maxOpenFor: "0ms" },
    outlierDetection: { baseEjectionTime: "0ms", maxEjectionTime: "0ms" },
  });
  assert.deepEqual(errors.map((e) => e.path).sort(), [
    "upstreams.users.circuitBreaker.maxOpenFor",
    "upstreams.users.circuitBreaker.openFor",
    "upstreams.users.circuitBreaker.window",
    "upstreams.users.outlierDetection.baseEjectionTime",
    "upstreams.users.outlierDetection.maxEjectionTime",
  ]);
});

Deno.test("the smallest positive values are still accepted", () => {
  const result = validateConfig(config({
    circuitBreaker: { window: "1ms", openFor: "1ms", maxOpenFor: "1ms" },
    outlierDetection: { baseEjectionTime: "1ms", maxEjectionTime: "1ms" },
  }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  const users = result.config.upstreams.users;
  assert.equal(users.circuitBreaker?.windowMs, 1);
  assert.equal(users.circuitBreaker?.openForMs, 1);
  assert.equal(users.outlierDetection?.baseEjectionMs, 1);
});

Deno.test("zero stays valid where it means off: slowStart, jitter, backoff", () => {
  const result = validateConfig(config({
    healthCheck: { path: "/h", jitter: "0ms" },
    outlierDetection: { slowStart: "0ms" },
    retries: { backoff: { base: "0ms", max: "0ms" } },
  }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  const users = result.config.upstreams.users;
  assert.equal(users.outlierDetection?.slowStartMs, 0);
  assert.equal(users.retries.backoffBaseMs, 0);
  assert.equal(users.retries.backoffMaxMs, 0);
});
