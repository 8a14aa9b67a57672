/**
 * Which failed attempts are retried, and how long to wait first.
 */
import type { NormalizedRetries } from "../../config/normalized.ts";
import type { UpstreamErrorKind } from "../client.ts";

/**
 * Methods that RFC 9110 §9.2.2 defines as idempotent: sending one twice has the same effect as
 * once, so a retry cannot duplicate a side effect.
 */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/**
 * Whether requests with `method` may be retried after any failure on this route. A failed
 * connect is retried whatever the method (see `failedToConnect`).
 */
export function mayRetryMethod(method: string, nonIdempotentAllowed: boolean): boolean {
  return nonIdempotentAllowed || IDEMPOTENT.has(method);
}

/**
 * Whether an attempt failed before its connection was up (refused, unreachable, connect timeout,
 * TLS handshake): no byte of the request reached the target, so it cannot arrive twice and a
 * retry is safe for every method, as nginx (`proxy_next_upstream error` sends non-idempotent
 * requests on unless "a request has been sent") and Envoy (`connect-failure`) do.
 */
export function failedToConnect(kind: UpstreamErrorKind): boolean {
  return kind === "connect" || kind === "connect_timeout";
}

/** Whether a failed exchange (no response) matches the retry conditions. */
export function retriesError(rules: NormalizedRetries, kind: UpstreamErrorKind): boolean {
  switch (kind) {
    case "connect":
    case "connect_timeout":
      return rules.on.connect;
    case "reset":
      return rules.on.reset;
    case "timeout":
      return rules.on.timeout;
    default:
      // Malformed responses and aborted clients are not fixed by asking again.
      return false;
  }
}

/** Whether an upstream response status matches the retry conditions. */
export function retriesStatus(rules: NormalizedRetries, status: number): boolean {
  return status >= 500 && rules.on.statuses.includes(status);
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter"): retry `n` (0-based) waits a uniform random time up to `min(max, base × 2^n)`, which
 * spreads a burst of simultaneous retries instead of synchronising them.
 */
export function backoffMs(rules: NormalizedRetries, retry: number, random = Math.random): number {
  return random() * Math.min(rules.backoffMaxMs, rules.backoffBaseMs * 2 ** retry);
}
