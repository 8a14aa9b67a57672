/**
 * Trace and span ids for Ferry's tracer. Every request opens two spans, so ids come from a pooled
 * random buffer (one `crypto.getRandomValues` call per 4 KiB, not one per id) and a byte→hex
 * table, instead of allocating a fresh typed array and formatting numbers per id.
 */

/** Lower-case two-digit hex of every byte value, indexed by the byte. */
export const BYTE_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) => byte.toString(16).padStart(2, "0"),
);

// 4 KiB holds 170 trace+span id pairs; the refill cost is spread over all of them.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE; // empty: the first id fills the pool

/** `count` random bytes as lower-case hex; all zero is possible here, callers reject it. */
function randomHex(count: number): { hex: string; zero: boolean } {
  if (offset + count > POOL_SIZE) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let hex = "";
  let any = 0;
  const end = offset + count;
  for (let i = offset; i < end; i++) {
    const byte = pool[i];
    any |= byte;
    hex += BYTE_HEX[byte];
  }
  offset = end;
  // Concatenation built a rope of 8 or 16 pieces. Converting it to a number (NaN, discarded)
  // makes V8 flatten it in place, once, here; else each use (the traceparent, each export
  // batch) walks the rope again.
  Number(hex);
  result.hex = hex;
  result.zero = any === 0;
  return result;
}
// Reused so that an id costs one string and no wrapper object.
const result = { hex: "", zero: false };

/** A random W3C trace id: 16 bytes as 32 lower-case hex digits, never all zero. */
export function newTraceId(): string {
  let r = randomHex(16);
  while (r.zero) r = randomHex(16);
  return r.hex;
}

/** A random W3C span id: 8 bytes as 16 lower-case hex digits, never all zero. */
export function newSpanId(): string {
  let r = randomHex(8);
  while (r.zero) r = randomHex(8);
  return r.hex;
}
