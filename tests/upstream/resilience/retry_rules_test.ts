/** Retry rules: which methods, errors and statuses are retried, and the backoff before a retry. */
import assert from "node:assert/strict";
import type { NormalizedRetries } from "../../../src/config/normalized.ts";
import type { UpstreamErrorKind } from "../../../src/upstream/client.ts";
import {
  backoffMs,
  mayRetryMethod,
  retriesError,
  retriesStatus,
} from "../../../src/upstream/resilience/retry_rules.ts";

function rules(overrides: Partial<NormalizedRetries> = {}): NormalizedRetries {
  return {
    maxRetries: 2,
    on: { connect: true, reset: true, timeout: false, statuses: [502, 503, 504] },
    backoffBaseMs: 25,
    backoffMaxMs: 250,
    budgetPercent: 20,
    budgetMinPerSecond: 3,
    maxBufferedBodyBytes: 65_536,
    ...overrides,
  };
}

const IDEMPOTENT = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"];
const NON_IDEMPOTENT = ["POST", "PATCH", "CONNECT", "PROPFIND"];

Deno.test("idempotent methods may be retried without opting in; others may not", () => {
  for (const m of IDEMPOTENT) assert.equal(mayRetryMethod(m, false), true, m);
  for (const m of NON_IDEMPOTENT) assert.equal(mayRetryMethod(m, false), false, m);
});

Deno.test("retryNonIdempotent lets every method be retried", () => {
  for (const m of [...IDEMPOTENT, ...NON_IDEMPOTENT]) {
    assert.equal(mayRetryMethod(m, true), true, m);
  }
});

Deno.test("error kinds map onto the connect, reset and timeout conditions", () => {
  const kinds: UpstreamErrorKind[] = [
    "connect",
    "connect_timeout",
    "reset",
    "timeout",
    "protocol",
    "aborted",
  ];
  const retried = (r: NormalizedRetries) => kinds.filter((k) => retriesError(r, k));
  const only = (on: Partial<NormalizedRetries["on"]>) =>
    rules({ on: { connect: false, reset: false, timeout: false, statuses: [], ...on } });
  assert.deepEqual(retried(only({ connect: true })), ["connect", "connect_timeout"]);
  assert.deepEqual(retried(only({ reset: true })), ["reset"]);
  assert.deepEqual(retried(only({ timeout: true })), ["timeout"]);
  assert.deepEqual(retried(only({})), []);
  // Malformed answers and clients that left are never retried, whatever is switched on.
  assert.deepEqual(
    retried(only({ connect: true, reset: true, timeout: true, statuses: [502] })),
    ["connect", "connect_timeout", "reset", "timeout"],
  );
});

Deno.test("only the listed statuses are retried", () => {
  const r = rules({ on: { connect: true, reset: true, timeout: false, statuses: [502, 504] } });
  assert.equal(retriesStatus(r, 502), true);
  assert.equal(retriesStatus(r, 504), true);
  assert.equal(retriesStatus(r, 500), false);
  assert.equal(retriesStatus(r, 503), false);
  assert.equal(retriesStatus(r, 200), false);
});

Deno.test("a status below 500 is never retried, even if a list somehow holds it", () => {
  const r = rules({ on: { connect: false, reset: false, timeout: false, statuses: [429, 503] } });
  assert.equal(retriesStatus(r, 429), false);
  assert.equal(retriesStatus(r, 503), true);
});

Deno.test("backoff is random × min(max, base × 2^retry)", () => {
  const r = rules({ backoffBaseMs: 25, backoffMaxMs: 250 });
  const at = (value: number) => () => value;
  // The lowest draw waits nothing, however late the retry.
  for (const retry of [0, 1, 5]) assert.equal(backoffMs(r, retry, at(0)), 0);
  // Half of the ceiling: 25, 50, 100, 200, then capped at 250.
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((n) => backoffMs(r, n, at(0.5))), [
    12.5,
    25,
    50,
    100,
    125,
    125,
    125,
  ]);
  // Just below the ceiling, never reaching it.
  assert.deepEqual([0, 1, 2, 3, 4, 20].map((n) => backoffMs(r, n, at(0.999))), [
    24.975,
    49.95,
    99.9,
    199.8,
    249.75,
    249.75,
  ]);
});

Deno.test("backoff never exceeds max even when base already does", () => {
  const r = rules({ backoffBaseMs: 400, backoffMaxMs: 250 });
  assert.equal(backoffMs(r, 0, () => 0.999), 249.75);
});

Deno.test("backoff draws from Math.random by default, inside [0, ceiling)", () => {
  const r = rules({ backoffBaseMs: 25, backoffMaxMs: 250 });
  for (let i = 0; i < 100; i++) {
    const wait = backoffMs(r, 1);
    assert.ok(wait >= 0 && wait < 50, `${wait}`);
  }
});
