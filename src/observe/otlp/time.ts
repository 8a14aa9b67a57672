/**
 * Span times. On the request path a time is one `performance.now()` reading, kept as a number
 * (milliseconds since `performance.timeOrigin`); only export turns it into OTLP's string of
 * nanoseconds since the epoch. Epoch nanoseconds (~1.7e18) do not fit a double exactly, so the
 * string is built from whole epoch milliseconds plus six digits of the fraction.
 */
import type { TimeInput } from "@opentelemetry/api";

const ORIGIN = performance.timeOrigin;

/** Now, as milliseconds since `performance.timeOrigin` (the form spans store). */
export function nowMs(): number {
  return performance.now();
}

/**
 * `relMs` (milliseconds since `origin`, an epoch time in milliseconds) split into whole epoch
 * milliseconds and the nanoseconds past them, written into {@link EPOCH} (reused: encoding runs
 * for every span, and an object per call would be garbage at that rate). The whole and
 * fractional parts of `origin` are added separately, so the fraction keeps its sub-microsecond
 * digits instead of being rounded away by a 1.7e12 sum. A time before the epoch reads as 0.
 */
export function splitEpoch(relMs: number, origin: number = ORIGIN): void {
  const originWhole = Math.floor(origin);
  const sum = (origin - originWhole) + relMs;
  let whole = Math.floor(sum);
  let nanos = Math.round((sum - whole) * 1e6);
  if (nanos === 1e6) {
    whole += 1;
    nanos = 0;
  }
  const ms = originWhole + whole;
  // Before the epoch: only a nonsense input gets here.
  EPOCH.ms = ms < 0 ? 0 : ms;
  EPOCH.nanos = ms < 0 ? 0 : nanos;
}

/** What {@link splitEpoch} wrote last. */
export const EPOCH = { ms: 0, nanos: 0 };

const TWO_32 = 2 ** 32;

/**
 * `relMs` (see {@link splitEpoch}) as OTLP/protobuf's fixed64 epoch nanoseconds, written into
 * {@link NANOS64} as 32-bit halves: epoch nanoseconds pass 2^53, the halves and every step
 * towards them are exact in a double.
 */
export function splitEpochNanos(relMs: number): void {
  splitEpoch(relMs);
  const msHigh = Math.floor(EPOCH.ms / TWO_32);
  const low = (EPOCH.ms - msHigh * TWO_32) * 1e6 + EPOCH.nanos; // < 2^32 · 1e6 + 1e6 < 2^53
  const carry = Math.floor(low / TWO_32);
  NANOS64.low = low - carry * TWO_32;
  NANOS64.high = msHigh * 1e6 + carry;
}

/** What {@link splitEpochNanos} wrote last. */
export const NANOS64 = { low: 0, high: 0 };

/** `relMs` (see {@link splitEpoch}) as decimal nanoseconds since the epoch (OTLP/JSON). */
export function epochNanos(relMs: number, origin: number = ORIGIN): string {
  splitEpoch(relMs, origin);
  if (EPOCH.ms === 0) return String(EPOCH.nanos);
  const text = `${EPOCH.ms}${String(EPOCH.nanos).padStart(6, "0")}`;
  Number(text); // flattens the rope in place, once (see ids.ts)
  return text;
}

/**
 * A caller-supplied `TimeInput` in the stored form. As in the OpenTelemetry JS SDK, a number
 * below the time origin is a `performance.now()` reading, larger numbers are epoch
 * milliseconds, a `Date` is epoch time and an `HrTime` is `[epoch seconds, nanoseconds]`.
 */
export function toRelMs(time: TimeInput): number {
  if (typeof time === "number") return time < ORIGIN ? time : time - ORIGIN;
  if (time instanceof Date) return time.getTime() - ORIGIN;
  return time[0] * 1000 + time[1] / 1e6 - ORIGIN;
}
