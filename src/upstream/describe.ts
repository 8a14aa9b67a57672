/**
 * The upstreams' live state as plain data, for admin `/upstreams`: per target its health, why,
 * ejection, weight during slow start and load; per upstream its circuit breaker.
 */
import type { CircuitBreaker } from "./resilience/circuit_breaker.ts";
import type { UpstreamRuntime } from "./upstream.ts";

/** One upstream's state. */
export interface UpstreamState {
  name: string;
  circuit: { state: string; trips: number; openUntil?: string } | null;
  targets: {
    url: string;
    healthy: boolean;
    health: string;
    lastHealthCheck?: string;
    ejectedUntil?: string;
    halfOpen: boolean;
    ejections: number;
    consecutiveFailures: number;
    weight: number;
    configuredWeight: number;
    inflight: number;
  }[];
}

/** Describes `runtimes` (in the given order) as of `now` (epoch ms). */
export function describeUpstreams(
  runtimes: Iterable<UpstreamRuntime>,
  now: number,
): UpstreamState[] {
  return [...runtimes].map((runtime) => {
    const { circuit, health } = runtime.resilience;
    return {
      name: runtime.config.name,
      circuit: circuit ? describeCircuit(circuit, now) : null,
      targets: runtime.targets.map((t) => ({
        url: t.url,
        healthy: t.healthy,
        health: t.health,
        ...(health ? { lastHealthCheck: health.lastResult(t) } : {}),
        ...(t.ejected ? { ejectedUntil: new Date(t.ejectedUntil).toISOString() } : {}),
        halfOpen: t.halfOpen,
        ejections: t.ejections,
        consecutiveFailures: t.consecutiveFailures,
        weight: Math.round(t.weight * 1000) / 1000,
        configuredWeight: t.configuredWeight,
        inflight: t.inflight,
      })),
    };
  });
}

/**
 * The breaker as of `now`: an open circuit whose open time is over reads as half-open, though
 * the move itself waits for the next request (see `CircuitBreaker.stateAt`).
 */
function describeCircuit(circuit: CircuitBreaker, now: number): UpstreamState["circuit"] {
  const state = circuit.stateAt(now);
  return {
    state,
    trips: circuit.trips,
    ...(state === "open" ? { openUntil: new Date(circuit.openUntil).toISOString() } : {}),
  };
}
