/**
 * CircuitBreaker: closed → open → half-open → closed, with time stepped by hand (the breaker
 * never reads the clock), so every boundary is checked at the exact millisecond.
 */
import assert from "node:assert/strict";
import type { NormalizedCircuitBreaker } from "../../../src/config/normalized.ts";
import {
  type Admission,
  ADMITTED,
  CircuitBreaker,
  isProbe,
  REFUSED,
} from "../../../src/upstream/resilience/circuit_breaker.ts";
import type { CircuitState } from "../../../src/upstream/resilience/events.ts";

const T0 = 1_000_000;

interface Change {
  from: CircuitState;
  to: CircuitState;
  reason: string;
}

function breaker(overrides: Partial<NormalizedCircuitBreaker> = {}) {
  const changes: Change[] = [];
  const circuit = new CircuitBreaker(
    {
      failurePercent: 50,
      minRequests: 4,
      windowMs: 10_000,
      openForMs: 1000,
      maxOpenForMs: 5000,
      halfOpenProbes: 2,
      ...overrides,
    },
    (from, to, reason) => changes.push({ from, to, reason }),
  );
  return { circuit, changes };
}

/** What an admission means; probes carry their half-open round, so compare kinds, not values. */
function kind(admission: Admission): "refused" | "admitted" | "probe" {
  if (admission === REFUSED) return "refused";
  if (admission === ADMITTED) return "admitted";
  assert.ok(isProbe(admission), `unknown admission ${admission}`);
  return "probe";
}

/** Admits one attempt while closed and records its outcome, as the forwarder does. */
function attempt(circuit: CircuitBreaker, now: number, failed: boolean): void {
  const admission = circuit.admit(now);
  assert.equal(admission, ADMITTED, `expected the closed circuit to admit at ${now}`);
  circuit.record(now, admission, failed);
}

/** Opens a fresh breaker with `minRequests` failures at `now`. */
function trip(circuit: CircuitBreaker, now: number): void {
  for (let i = 0; i < circuit.config.minRequests; i++) attempt(circuit, now, true);
  assert.equal(circuit.state, "open");
}

Deno.test("below minRequests the circuit stays closed even when every attempt failed", () => {
  const { circuit, changes } = breaker({ minRequests: 4 });
  for (let i = 0; i < 3; i++) attempt(circuit, T0, true);
  assert.equal(circuit.state, "closed");
  assert.equal(circuit.admit(T0), ADMITTED);
  assert.deepEqual(changes, []);
  attempt(circuit, T0, true); // the 4th failure reaches minRequests
  assert.equal(circuit.state, "open");
});

Deno.test("it opens exactly when failures × 100 ≥ failurePercent × total", () => {
  const { circuit } = breaker({ failurePercent: 60, minRequests: 4 });
  attempt(circuit, T0, false);
  attempt(circuit, T0, true);
  attempt(circuit, T0, false);
  attempt(circuit, T0, true); // 2 of 4 = 50% < 60%
  assert.equal(circuit.state, "closed");
  attempt(circuit, T0, true); // 3 of 5 = 60%: equal is enough
  assert.equal(circuit.state, "open");
  assert.equal(circuit.openUntil, T0 + 1000);
  assert.equal(circuit.trips, 1);
});

Deno.test("failures older than the window no longer count toward opening", () => {
  const { circuit } = breaker({ minRequests: 4, windowMs: 10_000 });
  for (let i = 0; i < 3; i++) attempt(circuit, T0, true);
  attempt(circuit, T0 + 10_000, true); // the three above left the window
  assert.equal(circuit.state, "closed");
  for (let i = 0; i < 3; i++) attempt(circuit, T0 + 10_000, true);
  assert.equal(circuit.state, "open");
});

Deno.test("while open every attempt is refused until openFor has passed", () => {
  const { circuit } = breaker({ openForMs: 1000 });
  trip(circuit, T0);
  assert.equal(circuit.admit(T0), REFUSED);
  assert.equal(circuit.admit(T0 + 999), REFUSED);
  assert.equal(circuit.state, "open");
  assert.equal(kind(circuit.admit(T0 + 1000)), "probe");
  assert.equal(circuit.state, "half_open");
});

Deno.test("retryAfterSeconds rounds the remaining open time up, and is at least 1", () => {
  const { circuit } = breaker({ openForMs: 2500, maxOpenForMs: 5000 });
  trip(circuit, T0);
  assert.equal(circuit.retryAfterSeconds(T0), 3);
  assert.equal(circuit.retryAfterSeconds(T0 + 1499), 2);
  assert.equal(circuit.retryAfterSeconds(T0 + 1500), 1);
  assert.equal(circuit.retryAfterSeconds(T0 + 2499), 1);
  assert.equal(circuit.retryAfterSeconds(T0 + 2500), 1);
  assert.equal(circuit.retryAfterSeconds(T0 + 9000), 1);
});

Deno.test("half-open admits exactly halfOpenProbes probes at once", () => {
  const { circuit } = breaker({ halfOpenProbes: 3 });
  trip(circuit, T0);
  const admissions = Array.from({ length: 5 }, () => circuit.admit(T0 + 1000));
  assert.deepEqual(admissions.map(kind), ["probe", "probe", "probe", "refused", "refused"]);
});

Deno.test("a succeeding probe does not free its slot: halfOpenProbes is the total per round", () => {
  const { circuit } = breaker({ halfOpenProbes: 2 });
  trip(circuit, T0);
  const first = circuit.admit(T0 + 1000);
  circuit.record(T0 + 1000, first, false);
  assert.equal(circuit.state, "half_open");
  assert.equal(kind(circuit.admit(T0 + 1000)), "probe");
  assert.equal(circuit.admit(T0 + 1000), REFUSED);
});

Deno.test("when every probe succeeds it closes, forgets the old failures and resets trips", () => {
  const { circuit } = breaker({ halfOpenProbes: 2, minRequests: 4, windowMs: 10_000 });
  trip(circuit, T0);
  const probes = [circuit.admit(T0 + 1000), circuit.admit(T0 + 1000)];
  circuit.record(T0 + 1000, probes[0], false);
  assert.equal(circuit.state, "half_open", "one success of two must not close it yet");
  circuit.record(T0 + 1000, probes[1], false);
  assert.equal(circuit.state, "closed");
  assert.equal(circuit.trips, 0);
  assert.equal(circuit.admit(T0 + 1000), ADMITTED);
  // The four failures that opened it are still inside the 10 s window: had the window not been
  // reset, one more failure (5 of 5) would open it again at once.
  attempt(circuit, T0 + 1000, true);
  assert.equal(circuit.state, "closed");
});

Deno.test("a failed probe reopens it for twice as long each time, capped at maxOpenFor", () => {
  const { circuit } = breaker({ openForMs: 1000, maxOpenForMs: 5000, halfOpenProbes: 2 });
  trip(circuit, T0);
  let now = T0;
  const openTimes: number[] = [circuit.openUntil - now];
  for (let i = 0; i < 4; i++) {
    now = circuit.openUntil;
    const probe = circuit.admit(now);
    assert.equal(kind(probe), "probe");
    circuit.record(now, probe, true);
    assert.equal(circuit.state, "open");
    openTimes.push(circuit.openUntil - now);
  }
  assert.deepEqual(openTimes, [1000, 2000, 4000, 5000, 5000]);
  assert.equal(circuit.trips, 5);
  assert.equal(circuit.admit(circuit.openUntil - 1), REFUSED);
});

Deno.test("after closing, the next trip starts again from openFor", () => {
  const { circuit } = breaker({ openForMs: 1000, halfOpenProbes: 1 });
  trip(circuit, T0);
  const failed = circuit.admit(T0 + 1000);
  circuit.record(T0 + 1000, failed, true); // second trip: 2000 ms
  assert.equal(circuit.openUntil, T0 + 3000);
  const passed = circuit.admit(T0 + 3000);
  circuit.record(T0 + 3000, passed, false);
  assert.equal(circuit.state, "closed");
  trip(circuit, T0 + 4000);
  assert.equal(circuit.openUntil, T0 + 5000);
  assert.equal(circuit.trips, 1);
});

Deno.test("onChange hears every transition, in order, with its reason", () => {
  const { circuit, changes } = breaker({ halfOpenProbes: 2, minRequests: 4, windowMs: 10_000 });
  trip(circuit, T0);
  const failedProbe = circuit.admit(T0 + 1000);
  circuit.record(T0 + 1000, failedProbe, true);
  const probes = [circuit.admit(T0 + 3000), circuit.admit(T0 + 3000)];
  for (const p of probes) circuit.record(T0 + 3000, p, false);
  assert.deepEqual(changes, [
    { from: "closed", to: "open", reason: "4 of 4 attempts failed in the last 10000 ms" },
    { from: "open", to: "half_open", reason: "open time elapsed" },
    { from: "half_open", to: "open", reason: "a half-open probe failed" },
    { from: "open", to: "half_open", reason: "open time elapsed" },
    { from: "half_open", to: "closed", reason: "2 half-open probes succeeded" },
  ]);
});

Deno.test("release() gives a probe slot back; other admissions release nothing", () => {
  const { circuit } = breaker({ halfOpenProbes: 2 });
  const closed = circuit.admit(T0);
  circuit.release(closed); // a closed-state admission holds no slot
  trip(circuit, T0);
  const first = circuit.admit(T0 + 1000);
  assert.equal(kind(circuit.admit(T0 + 1000)), "probe");
  assert.equal(circuit.admit(T0 + 1000), REFUSED);
  circuit.release(REFUSED);
  assert.equal(circuit.admit(T0 + 1000), REFUSED);
  circuit.release(first);
  assert.equal(kind(circuit.admit(T0 + 1000)), "probe");
  assert.equal(circuit.admit(T0 + 1000), REFUSED);
  assert.equal(circuit.state, "half_open", "a release is not an outcome");
});

Deno.test("outcomes of attempts admitted while closed but recorded after a trip are ignored", () => {
  const { circuit, changes } = breaker({ halfOpenProbes: 1, minRequests: 4 });
  const late: Admission[] = Array.from({ length: 3 }, () => circuit.admit(T0));
  trip(circuit, T0);
  const openUntil = circuit.openUntil;
  circuit.record(T0 + 10, late[0], true); // while open: no second trip
  assert.equal(circuit.openUntil, openUntil);
  assert.equal(circuit.trips, 1);
  const probe = circuit.admit(T0 + 1000);
  circuit.record(T0 + 1000, late[1], false); // while half-open: not a probe success
  assert.equal(circuit.state, "half_open");
  circuit.record(T0 + 1000, late[2], true); // nor a probe failure
  assert.equal(circuit.state, "half_open");
  assert.equal(circuit.admit(T0 + 1000), REFUSED, "the one probe slot is still taken");
  circuit.record(T0 + 1000, probe, false);
  assert.equal(circuit.state, "closed");
  assert.deepEqual(changes.map((c) => c.to), ["open", "half_open", "closed"]);
});

Deno.test("a probe of an earlier half-open round that fails late does not reopen the next round", () => {
  const { circuit, changes } = breaker({ openForMs: 1000, halfOpenProbes: 2 });
  trip(circuit, T0);
  const [failing, slow] = [circuit.admit(T0 + 1000), circuit.admit(T0 + 1000)];
  circuit.record(T0 + 1000, failing, true); // reopens until T0 + 3000; `slow` is still out
  const fresh = circuit.admit(T0 + 3000);
  assert.equal(kind(fresh), "probe");
  circuit.record(T0 + 3000, slow, true); // decided nothing about this round
  assert.equal(circuit.state, "half_open", JSON.stringify(changes.slice(3)));
  assert.equal(circuit.trips, 2);
});

Deno.test("a probe of an earlier half-open round that succeeds late does not count in the next", () => {
  const { circuit } = breaker({ openForMs: 1000, halfOpenProbes: 2 });
  trip(circuit, T0);
  const [failing, slow] = [circuit.admit(T0 + 1000), circuit.admit(T0 + 1000)];
  circuit.record(T0 + 1000, failing, true);
  const fresh = [circuit.admit(T0 + 3000), circuit.admit(T0 + 3000)];
  assert.deepEqual(fresh.map(kind), ["probe", "probe"]);
  circuit.record(T0 + 3000, slow, false);
  assert.equal(circuit.admit(T0 + 3000), REFUSED, "both slots of this round are in flight");
  circuit.record(T0 + 3000, fresh[0], false);
  // Only one of this round's two probes has answered: closing now would trust a stale success.
  assert.equal(circuit.state, "half_open");
});

Deno.test("releasing a probe of an earlier round frees no slot of the current one", () => {
  const { circuit } = breaker({ openForMs: 1000, halfOpenProbes: 2 });
  trip(circuit, T0);
  const [failing, abandoned] = [circuit.admit(T0 + 1000), circuit.admit(T0 + 1000)];
  circuit.record(T0 + 1000, failing, true);
  const fresh = [circuit.admit(T0 + 3000), circuit.admit(T0 + 3000)];
  assert.deepEqual(fresh.map(kind), ["probe", "probe"]);
  circuit.release(abandoned);
  assert.equal(kind(circuit.admit(T0 + 3000)), "refused");
});
