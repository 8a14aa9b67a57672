/**
 * The current time as ISO 8601 (`2026-11-22T22:30:00.123Z`), for access-log lines. Formatting
 * with `Date#toISOString` costs ~2 µs, and a busy gateway ends many requests per millisecond:
 * the text is kept for the millisecond, and the part up to the seconds for the second, so most
 * calls only compare a number and a new millisecond only appends three digits.
 */

let lastMs = Number.NaN;
let lastText = "";
let secondMs = Number.NaN;
/** `2026-11-22T22:30:00.` for the second starting at `secondMs`. */
let secondPrefix = "";

/** `ms` (epoch milliseconds, default now) as ISO 8601 with milliseconds, in UTC. */
export function isoTime(ms: number = Date.now()): string {
  if (ms === lastMs) return lastText;
  const millis = ((ms % 1000) + 1000) % 1000; // also right before 1970, where % is negative
  const second = ms - millis;
  if (second !== secondMs) {
    secondMs = second;
    secondPrefix = new Date(second).toISOString().slice(0, -4); // drops "000Z"
  }
  lastText = `${secondPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
  lastMs = ms;
  return lastText;
}
