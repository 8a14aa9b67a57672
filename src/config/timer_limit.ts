/**
 * The longest delay `setTimeout` can wait: 2^31 - 1 ms, about 24.8 days. A longer one (Deno
 * warns "TimeoutOverflowWarning") fires after 1 ms, so a timer that re-arms itself would spin.
 * Config durations are capped at this (`schema.ts` and the policies' own schemas), and timers
 * whose delays are computed from them (an ejection time that doubles, a sum of backoffs, a JWKS
 * refresh from `Cache-Control`) clamp with `timerDelay` too. One constant for all of them.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay `setTimeout` honours: at least 1, at most `MAX_TIMER_MS`. */
export function timerDelay(ms: number): number {
  return ms >= MAX_TIMER_MS ? MAX_TIMER_MS : ms > 1 ? ms : 1;
}
