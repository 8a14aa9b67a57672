/**
 * Validation of the upstream resilience settings (timeouts, healthCheck, outlierDetection,
 * circuitBreaker, retries) and of routes' retryNonIdempotent: defaults, normalization, and one
 * precise error per bad value.
 */
import assert from "node:assert/strict";
import type { ConfigIssue, NormalizedConfig } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

/** A config with one upstream `api` holding `settings`, and one route (with `route`) to it. */
function config(settings: Record<string, unknown>, route: Record<string, unknown> = {}) {
  return {
    upstreams: { api: { targets: ["http://127.0.0.1:3000"], ...settings } },
    routes: [{ upstream: "api", ...route }],
  };
}

function valid(input: unknown): NormalizedConfig {
  const result = validateConfig(input);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${JSON.stringify(result.errors)}`);
  return result.config;
}

const api = (settings: Record<string, unknown>) => valid(config(settings)).upstreams.api;

function errorsOf(input: unknown): ConfigIssue[] {
  const result = validateConfig(input);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

/** Exactly one error, at `path`, with exactly `message`. */
function assertOneError(settings: Record<string, unknown>, path: string, message: string) {
  const errors = errorsOf(config(settings));
  assert.deepEqual(
    errors.map((e) => [e.path, e.message]),
    [[`upstreams.api.${path}`, message]],
  );
}

// ------------------------------------------------------------------------------------ defaults

Deno.test("timeouts default to connect 5s, total 30s, idle 60s, and perTry = total", () => {
  assert.deepEqual(api({}).timeouts, {
    connectMs: 5000,
    perTryMs: 30_000,
    totalMs: 30_000,
    idleMs: 60_000,
  });
  assert.deepEqual(api({ timeouts: { total: "8s" } }).timeouts.perTryMs, 8000);
  assert.deepEqual(api({ timeouts: { perTry: "2s", total: "8s" } }).timeouts, {
    connectMs: 5000,
    perTryMs: 2000,
    totalMs: 8000,
    idleMs: 60_000,
  });
});

Deno.test("health checks are off unless given", () => {
  assert.equal(api({}).healthCheck, null);
});

Deno.test("a health check with only a path gets every default", () => {
  assert.deepEqual(api({ healthCheck: { path: "/healthz" } }).healthCheck, {
    path: "/healthz",
    intervalMs: 5000,
    jitterMs: 500,
    timeoutMs: 2000,
    expectStatus: [[200, 299]],
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    host: null,
  });
});

Deno.test("the default jitter is a tenth of the interval; an explicit one wins, even 0", () => {
  const jitter = (h: Record<string, unknown>) =>
    api({ healthCheck: { path: "/h", ...h } }).healthCheck?.jitterMs;
  assert.equal(jitter({ interval: "2s" }), 200);
  assert.equal(jitter({ interval: "2s", jitter: "50ms" }), 50);
  assert.equal(jitter({ interval: "2s", jitter: "0ms" }), 0);
});

Deno.test("every health check setting given is kept", () => {
  const check = api({
    healthCheck: {
      path: "/status?deep=1",
      interval: "10s",
      jitter: "1s",
      timeout: "3s",
      expectStatus: [204],
      healthyThreshold: 1,
      unhealthyThreshold: 5,
      host: "internal.example",
    },
  }).healthCheck;
  assert.deepEqual(check, {
    path: "/status?deep=1",
    intervalMs: 10_000,
    jitterMs: 1000,
    timeoutMs: 3000,
    expectStatus: [[204, 204]],
    healthyThreshold: 1,
    unhealthyThreshold: 5,
    host: "internal.example",
  });
});

Deno.test('expectStatus turns "2xx" into [200, 299] and 204 into [204, 204], in order', () => {
  const ranges = api({ healthCheck: { path: "/h", expectStatus: ["2xx", 204, "3xx", 404] } })
    .healthCheck?.expectStatus;
  assert.deepEqual(ranges, [[200, 299], [204, 204], [300, 399], [404, 404]]);
});

Deno.test("outlier detection, circuit breaker and retries are on by default", () => {
  const u = api({});
  assert.deepEqual(u.outlierDetection, {
    consecutiveFailures: 5,
    baseEjectionMs: 30_000,
    maxEjectionMs: 300_000,
    maxEjectedPercent: 50,
    slowStartMs: 10_000,
  });
  assert.deepEqual(u.circuitBreaker, {
    failurePercent: 50,
    minRequests: 20,
    windowMs: 10_000,
    openForMs: 5000,
    maxOpenForMs: 60_000,
    halfOpenProbes: 3,
  });
  assert.deepEqual(u.retries, {
    maxRetries: 2,
    on: { connect: true, reset: true, timeout: false, statuses: [502, 503, 504] },
    backoffBaseMs: 25,
    backoffMaxMs: 250,
    budgetPercent: 20,
    budgetMinPerSecond: 3,
    maxBufferedBodyBytes: 65_536,
  });
});

Deno.test("an empty settings object means the defaults too", () => {
  const defaults = api({});
  const empty = api({ outlierDetection: {}, circuitBreaker: {}, retries: {} });
  assert.deepEqual(empty.outlierDetection, defaults.outlierDetection);
  assert.deepEqual(empty.circuitBreaker, defaults.circuitBreaker);
  assert.deepEqual(empty.retries, defaults.retries);
});

Deno.test("each section's explicit settings are kept", () => {
  const u = api({
    outlierDetection: {
      consecutiveFailures: 2,
      baseEjectionTime: "1s",
      maxEjectionTime: "1m",
      maxEjectedPercent: 0,
      slowStart: "0s",
    },
    circuitBreaker: {
      failurePercent: 100,
      minRequests: 1,
      window: "30s",
      openFor: "1s",
      maxOpenFor: "1s",
      halfOpenProbes: 1,
    },
    retries: {
      maxRetries: 0,
      on: ["timeout"],
      backoff: { base: "10ms", max: "10ms" },
      budget: { percent: 100, minPerSecond: 0 },
      maxBufferedBodyBytes: 0,
    },
  });
  assert.deepEqual(u.outlierDetection, {
    consecutiveFailures: 2,
    baseEjectionMs: 1000,
    maxEjectionMs: 60_000,
    maxEjectedPercent: 0,
    slowStartMs: 0,
  });
  assert.deepEqual(u.circuitBreaker, {
    failurePercent: 100,
    minRequests: 1,
    windowMs: 30_000,
    openForMs: 1000,
    maxOpenForMs: 1000,
    halfOpenProbes: 1,
  });
  assert.deepEqual(u.retries, {
    maxRetries: 0,
    on: { connect: false, reset: false, timeout: true, statuses: [] },
    backoffBaseMs: 10,
    backoffMaxMs: 10,
    budgetPercent: 100,
    budgetMinPerSecond: 0,
    maxBufferedBodyBytes: 0,
  });
});

Deno.test("false turns outlier detection, the circuit breaker and retries off", () => {
  const u = api({ outlierDetection: false, circuitBreaker: false, retries: false });
  assert.equal(u.outlierDetection, null);
  assert.equal(u.circuitBreaker, null);
  assert.equal(u.retries.maxRetries, 0);
  assert.deepEqual(u.retries.on, { connect: false, reset: false, timeout: false, statuses: [] });
});

Deno.test("true is not a way to turn a section on", () => {
  assertOneError(
    { circuitBreaker: true },
    "circuitBreaker",
    "expected circuit breaker settings or false, got true",
  );
  assertOneError({ retries: true }, "retries", "expected retry settings or false, got true");
  assertOneError(
    { outlierDetection: true },
    "outlierDetection",
    "expected outlier detection settings or false, got true",
  );
});

Deno.test("retry `on` becomes flags plus a sorted, de-duplicated status list", () => {
  const on = (list: unknown[]) => api({ retries: { on: list } }).retries.on;
  assert.deepEqual(on([504, "timeout", 502, 504, 500]), {
    connect: false,
    reset: false,
    timeout: true,
    statuses: [500, 502, 504],
  });
  assert.deepEqual(on(["connect", "reset"]), {
    connect: true,
    reset: true,
    timeout: false,
    statuses: [],
  });
  assert.deepEqual(on([]), { connect: false, reset: false, timeout: false, statuses: [] });
});

Deno.test("retryNonIdempotent defaults to false on a route, and true passes through", () => {
  assert.equal(valid(config({})).routes[0].retryNonIdempotent, false);
  assert.equal(valid(config({}, { retryNonIdempotent: true })).routes[0].retryNonIdempotent, true);
  const errors = errorsOf(config({}, { retryNonIdempotent: "yes" }));
  assert.deepEqual(errors.map((e) => [e.path, e.message]), [
    ["routes[0].retryNonIdempotent", 'expected true or false, got "yes"'],
  ]);
});

// ---------------------------------------------------------------------------------- bad values

Deno.test("a budget percent above 100 is one error at its path", () => {
  assertOneError(
    { retries: { budget: { percent: 101 } } },
    "retries.budget.percent",
    "expected a percentage from 0 to 100, got 101",
  );
});

Deno.test("maxEjectedPercent above 100 is one error at its path", () => {
  assertOneError(
    { outlierDetection: { maxEjectedPercent: 150 } },
    "outlierDetection.maxEjectedPercent",
    "expected a percentage from 0 to 100, got 150",
  );
});

Deno.test("failurePercent 101 is one error at its path", () => {
  assertOneError(
    { circuitBreaker: { failurePercent: 101 } },
    "circuitBreaker.failurePercent",
    "expected a percentage above 0, at most 100, got 101",
  );
});

Deno.test("failurePercent 0 is one error that says what was found", () => {
  const errors = errorsOf(config({ circuitBreaker: { failurePercent: 0 } }));
  assert.deepEqual(errors.map((e) => e.path), ["upstreams.api.circuitBreaker.failurePercent"]);
  // A circuit that opens at 0% failures would be open forever.
  assert.match(errors[0].message, /above 0/);
  assert.match(errors[0].message, /got 0\b/, errors[0].message);
});

Deno.test("a negative failurePercent is one error, not two", () => {
  const errors = errorsOf(config({ circuitBreaker: { failurePercent: -5 } }));
  assert.deepEqual(
    errors.map((e) => e.path),
    ["upstreams.api.circuitBreaker.failurePercent"],
    JSON.stringify(errors),
  );
  assert.match(errors[0].message, /got -5/);
});

Deno.test("thresholds, probes, requests and failures must be whole numbers ≥ 1", () => {
  const cases: [Record<string, unknown>, string, unknown][] = [
    [{ healthCheck: { path: "/h", healthyThreshold: 0 } }, "healthCheck.healthyThreshold", 0],
    [
      { healthCheck: { path: "/h", unhealthyThreshold: 1.5 } },
      "healthCheck.unhealthyThreshold",
      1.5,
    ],
    [{ circuitBreaker: { minRequests: 0 } }, "circuitBreaker.minRequests", 0],
    [{ circuitBreaker: { halfOpenProbes: 0 } }, "circuitBreaker.halfOpenProbes", 0],
    [{ outlierDetection: { consecutiveFailures: 0 } }, "outlierDetection.consecutiveFailures", 0],
  ];
  for (const [settings, path, value] of cases) {
    assertOneError(settings, path, `expected a whole number ≥ 1, got ${value}`);
  }
});

Deno.test("maxRetries and maxBufferedBodyBytes must be whole numbers ≥ 0", () => {
  assertOneError(
    { retries: { maxRetries: -1 } },
    "retries.maxRetries",
    "expected a whole number ≥ 0, got -1",
  );
  assertOneError(
    { retries: { maxBufferedBodyBytes: 1.5 } },
    "retries.maxBufferedBodyBytes",
    "expected a whole number ≥ 0, got 1.5",
  );
  assertOneError(
    { retries: { budget: { minPerSecond: -1 } } },
    "retries.budget.minPerSecond",
    "expected a number ≥ 0, got -1",
  );
});

Deno.test("a health check path must start with a slash", () => {
  assertOneError(
    { healthCheck: { path: "healthz" } },
    "healthCheck.path",
    'expected a path like "/healthz" (starting with "/", no spaces), got "healthz"',
  );
});

Deno.test("a health check needs a path", () => {
  const errors = errorsOf(config({ healthCheck: { interval: "5s" } }));
  assert.deepEqual(errors.map((e) => e.path), ["upstreams.api.healthCheck.path"]);
  assert.match(errors[0].message, /^missing: expected a path like "\/healthz"/);
});

Deno.test('a status class "6xx" or a status 600 is one error at its list position', () => {
  assertOneError(
    { healthCheck: { path: "/h", expectStatus: ["2xx", "6xx"] } },
    "healthCheck.expectStatus[1]",
    'expected a status like 200 or a class like "2xx", got "6xx"',
  );
  assertOneError(
    { healthCheck: { path: "/h", expectStatus: [600] } },
    "healthCheck.expectStatus[0]",
    "expected a status from 100 to 599, got 600",
  );
  assertOneError(
    { healthCheck: { path: "/h", expectStatus: [] } },
    "healthCheck.expectStatus",
    'expected at least one status, like ["2xx"]',
  );
});

Deno.test('retrying on 404 or on "sometimes" is one error at its list position', () => {
  const expected = '"connect", "reset", "timeout" or a status from 500 to 599';
  assertOneError(
    { retries: { on: ["connect", 404] } },
    "retries.on[1]",
    `expected ${expected}, got 404`,
  );
  assertOneError(
    { retries: { on: ["sometimes"] } },
    "retries.on[0]",
    `expected ${expected}, got "sometimes"`,
  );
});

Deno.test("a bad duration in a resilience section is one error at its path", () => {
  assertOneError(
    { circuitBreaker: { window: "10 seconds" } },
    "circuitBreaker.window",
    'expected a duration like "250ms" or "5s", got "10 seconds"',
  );
  assertOneError(
    { healthCheck: { path: "/h", interval: 5 } },
    "healthCheck.interval",
    'expected a duration like "250ms" or "5s", got 5',
  );
});

Deno.test("unknown keys are errors at the key, listing or guessing the known ones", () => {
  assertOneError(
    { circuitBreaker: { treshold: 3 } },
    "circuitBreaker.treshold",
    'unknown key "treshold"; expected one of "failurePercent", "minRequests", "window", ' +
      '"openFor", "maxOpenFor", "halfOpenProbes"',
  );
  assertOneError(
    { outlierDetection: { consecutiveFailure: 3 } },
    "outlierDetection.consecutiveFailure",
    'unknown key "consecutiveFailure"; did you mean "consecutiveFailures"?',
  );
  assertOneError(
    { healthCheck: { path: "/h", intervall: "5s" } },
    "healthCheck.intervall",
    'unknown key "intervall"; did you mean "interval"?',
  );
  assertOneError(
    { retries: { backoff: { bsae: "1s" } } },
    "retries.backoff.bsae",
    'unknown key "bsae"; did you mean "base"?',
  );
  assertOneError(
    { timeouts: { perTyr: "1s" } },
    "timeouts.perTyr",
    'unknown key "perTyr"; did you mean "perTry"?',
  );
});

// --------------------------------------------------------------------------- ordered durations

Deno.test("durations that must be ordered give one error at the shorter one", () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [
      { timeouts: { perTry: "10s", total: "5s" } },
      "timeouts.perTry",
      'perTry "10s" is longer than total "5s": make it at most "5s"',
    ],
    [
      { retries: { backoff: { base: "1s", max: "500ms" } } },
      "retries.backoff.base",
      'backoff.base "1s" is longer than backoff.max "500ms": make it at most "500ms"',
    ],
    [
      { circuitBreaker: { openFor: "2m", maxOpenFor: "1m" } },
      "circuitBreaker.openFor",
      'openFor "2m" is longer than maxOpenFor "1m": make it at most "1m"',
    ],
    [
      { outlierDetection: { baseEjectionTime: "10m", maxEjectionTime: "5m" } },
      "outlierDetection.baseEjectionTime",
      'baseEjectionTime "10m" is longer than maxEjectionTime "5m": make it at most "5m"',
    ],
    [
      { healthCheck: { path: "/h", timeout: "3s", interval: "1s" } },
      "healthCheck.timeout",
      'timeout "3s" is longer than interval "1s": make it at most "1s"',
    ],
  ];
  for (const [settings, path, message] of cases) assertOneError(settings, path, message);
});

Deno.test("equal ordered durations are fine", () => {
  const u = api({
    timeouts: { perTry: "5s", total: "5s" },
    retries: { backoff: { base: "100ms", max: "100ms" } },
    circuitBreaker: { openFor: "1m", maxOpenFor: "60s" },
    outlierDetection: { baseEjectionTime: "5m", maxEjectionTime: "5m" },
    healthCheck: { path: "/h", timeout: "1s", interval: "1000ms" },
  });
  assert.equal(u.timeouts.perTryMs, 5000);
  assert.equal(u.circuitBreaker?.openForMs, 60_000);
});

// A value longer than the *default* of its partner is as wrong as one longer than an explicit
// partner: the check must compare against the value that will actually be used.
const AGAINST_DEFAULTS: [string, Record<string, unknown>, string, string][] = [
  ["perTry above the default total", { timeouts: { perTry: "40s" } }, "timeouts.perTry", "30s"],
  [
    "backoff base above the default max",
    { retries: { backoff: { base: "1s" } } },
    "retries.backoff.base",
    "250ms",
  ],
  [
    "openFor above the default maxOpenFor",
    { circuitBreaker: { openFor: "2m" } },
    "circuitBreaker.openFor",
    "60s",
  ],
  [
    "baseEjectionTime above the default maxEjectionTime",
    { outlierDetection: { baseEjectionTime: "10m" } },
    "outlierDetection.baseEjectionTime",
    "5m",
  ],
  [
    "health check timeout above the default interval",
    { healthCheck: { path: "/h", timeout: "10s" } },
    "healthCheck.timeout",
    "5s",
  ],
];

for (const [name, settings, path, defaultValue] of AGAINST_DEFAULTS) {
  Deno.test(`${name} is an error too`, () => {
    const result = validateConfig(config(settings));
    if (result.ok) {
      const section = path.split(".")[0] as keyof NormalizedConfig["upstreams"][string];
      assert.fail(`accepted, as ${JSON.stringify(result.config.upstreams.api[section])}`);
    }
    assert.deepEqual(result.errors.map((e) => e.path), [`upstreams.api.${path}`]);
    assert.ok(result.errors[0].message.includes(defaultValue), result.errors[0].message);
  });
}
