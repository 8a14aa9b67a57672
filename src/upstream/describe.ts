/**
 * The upstreams' live state as plain data, for admin `/upstreams`: per target its health, why,
 * ejection, weight during slow start and load; per upstream its circuit breaker.
 */
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

/** Describes `runtimes` (in the given order). */
export function describeUpstreams(runtimes: Iterable<UpstreamRuntime>): UpstreamState[] {
  return [...runtimes].map((runtime) => {
    const { circuit, health } = runtime.resilience;
    return {
      name: runtime.config.name,
      circuit: circuit
        ? {
          state: circuit.state,
          trips: circuit.trips,
          ...(circuit.state === "open"
            ? { openUntil: new Date(circuit.openUntil).toISOString() }
            : {}),
        }
        : null,
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
