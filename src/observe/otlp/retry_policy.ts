/**
 * When a failed OTLP export is worth sending again, and after how long. The OTLP/HTTP spec names
 * 429, 502, 503 and 504 as retryable: the collector is overloaded or restarting, and the same
 * batch is likely taken a moment later. So is an export that got no answer because the connection
 * failed (refused, reset, closed before the answer): a collector being restarted or rescheduled
 * refuses connections for a few seconds, and the spec's exporters retry those too. The wait
 * doubles from attempt to attempt, with jitter so that many gateways refused together do not come
 * back together, and a `Retry-After` the collector sends is honoured: it may lengthen the wait.
 * Every other status means the batch itself was refused (400: malformed, 401/403: credentials,
 * 413: too large), and sending it again changes nothing.
 */

/** The statuses the OTLP/HTTP spec makes retryable. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/** Backoff bounds, in milliseconds. */
export interface RetryBackoff {
  /** The wait before the first retry (halved at most by jitter). Default 1000. */
  initialMs: number;
  /** The longest wait between two attempts. Default 5000. */
  maxMs: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { initialMs: 1000, maxMs: 5000 };

/**
 * The wait before sending again after an answer with `status` to attempt number `attempt` (0 for
 * the first), or `undefined` when that answer is not worth a retry. A `Retry-After` sets the
 * least wait, never a shorter one than the backoff: `Retry-After: 0`, or a date already past (the
 * collector's clock behind ours), would otherwise resend the batch at once, again and again until
 * the export timeout, thousands of requests to a collector that said it is overloaded.
 * OpenTelemetry Go's OTLP exporters wait the longer of the two as well.
 */
export function retryDelayMs(
  status: number,
  retryAfter: string | undefined,
  attempt: number,
  backoff: RetryBackoff,
  random: () => number = Math.random,
): number | undefined {
  if (!RETRYABLE.has(status)) return undefined;
  const backoffMs = backoffDelayMs(attempt, backoff, random);
  const told = retryAfterMs(retryAfter, Date.now());
  return told === undefined ? backoffMs : Math.max(told, backoffMs);
}

/**
 * The wait before attempt number `attempt + 1` when attempt `attempt` (0 for the first) got no
 * answer, or any retryable answer without a `Retry-After`: doubling from `initialMs` up to
 * `maxMs`, with at most half taken off by jitter.
 */
export function backoffDelayMs(
  attempt: number,
  backoff: RetryBackoff,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return ceiling * (0.5 + random() * 0.5);
}

/**
 * A `Retry-After` value (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as milliseconds from
 * `now`; `undefined` when absent or unreadable, which falls back to the backoff.
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form names its month and weekday; Date.parse alone would take "-5" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
