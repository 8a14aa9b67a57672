/**
 * The longest delay `setTimeout` can wait: 2^31 - 1 ms, about 24.8 days. A longer one (Deno
 * warns "TimeoutOverflowWarning") fires after 1 ms, so a timer that re-arms itself would spin.
 * Config durations are capped at this (`schema.ts`), but delays are also computed from them (an
 * ejection time that doubles, a sum of backoffs), hence every long-lived timer of the upstream
 * side clamps its delay too.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay `setTimeout` honours: at least 1, at most `MAX_TIMER_MS`. */
export function timerDelay(ms: number): number {
  return ms >= MAX_TIMER_MS ? MAX_TIMER_MS : ms > 1 ? ms : 1;
}
