/**
 * What the resilience machinery reports: metrics count these and the log records them. One
 * listener per gateway, handed to every upstream it builds.
 */
export type CircuitState = "closed" | "open" | "half_open";

/** Listener for upstream resilience events. Calls must be cheap and must not throw. */
export interface UpstreamEvents {
  /** A failed attempt is being retried. */
  retried(upstream: string): void;
  /** A retry was wanted but the retry budget was spent. */
  budgetExhausted(upstream: string): void;
  /** Outlier detection ejected `target` for `ms`. */
  ejected(upstream: string, target: string, ms: number, reason: string): void;
  /** A target went in or out of rotation (health checks, ejection end, readmission). */
  healthChanged(upstream: string, target: string, healthy: boolean, reason: string): void;
  /** The circuit breaker changed state. */
  circuitChanged(upstream: string, from: CircuitState, to: CircuitState, reason: string): void;
}

/** Ignores everything (tests and embedders that do not care). */
export const ignoreUpstreamEvents: UpstreamEvents = {
  retried() {},
  budgetExhausted() {},
  ejected() {},
  healthChanged() {},
  circuitChanged() {},
};
