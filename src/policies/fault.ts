/**
 * The `fault` policy's factory (config side: plain data, no dependencies). It injects failures
 * on purpose, so retries, circuit breakers, timeouts and clients can be tested against them.
 */
import type { Duration, PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** Answer some requests with an error instead of forwarding them. */
export interface FaultAbort {
  /** The status to answer with, from 400 to 599. */
  status: number;
  /** Share of eligible requests to abort, from 0 to 100 (up to 4 decimals). */
  percent: number;
  /** The problem's `detail` member. Default: says which route's fault policy answered. */
  detail?: string;
}

/** Hold some requests for a while, then forward them as usual. */
export interface FaultDelay {
  /** How long to hold the request, like `"250ms"` or `"2s"`. */
  duration: Duration;
  /** Share of eligible requests to delay, from 0 to 100 (up to 4 decimals). */
  percent: number;
}

/** Restricts the policy to requests carrying a header; others pass untouched and uncounted. */
export interface FaultCondition {
  /** Header name (case-insensitive). */
  header: string;
  /** The value the header must have (all its values joined by `", "`); any value when absent. */
  equals?: string;
}

/** Options of {@link fault}, as validated (at least one of `abort` and `delay`). */
export interface FaultPolicyOptions {
  abort?: FaultAbort;
  delay?: FaultDelay;
  when?: FaultCondition;
}

/** Options of {@link fault}: `abort`, `delay` or both, optionally limited by `when`. */
export type FaultOptions =
  & ({ abort: FaultAbort; delay?: FaultDelay } | { abort?: FaultAbort; delay: FaultDelay })
  & { when?: FaultCondition };

/**
 * Injects faults: delays and/or aborts a share of requests, optionally only those carrying a
 * header. A delay applies first, then an abort (as in Envoy), so one request can get both.
 * Aborts answer `application/problem+json` with type `fault-injected` and the header
 * `x-ferry-fault: abort`; the upstream never sees them.
 *
 * Percentages are exact, not random: of the first `n` eligible requests, exactly
 * `floor(n × percent / 100)` are faulted (10% faults the 10th, 20th, 30th, …). Runs are
 * reproducible, so a test of retries or a circuit breaker counts on exact figures. Counters
 * belong to one route's use of the policy and restart when the config reloads.
 *
 * @example
 * ```ts
 * // 10% of requests fail with 503; 1 in 4 waits 300ms first.
 * fault({ abort: { status: 503, percent: 10 }, delay: { duration: "300ms", percent: 25 } })
 * // Only requests sent with `x-chaos: on` fail, all of them.
 * fault({ abort: { status: 500, percent: 100 }, when: { header: "x-chaos", equals: "on" } })
 * ```
 */
export function fault(options: FaultOptions): PolicyDescriptor<"fault", FaultPolicyOptions> {
  return descriptor("fault", options);
}
