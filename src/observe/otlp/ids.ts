/**
 * Trace and span ids for Ferry's tracer. Every request opens two spans, so ids come from a pooled
 * random buffer (one `crypto.getRandomValues` call per 4 KiB, not one per id), and each id's hex
 * text is made by one `String.fromCharCode` call from a byte→digit table: a flat string at once,
 * where concatenating two-digit pieces built a rope to flatten (measured ~2× the cost).
 *
 * (Keeping a sampled span's ids as bytes too, for the OTLP/protobuf encoder to copy instead of
 * parsing the hex back, measured slower: a small typed array per span costs more than the
 * parse.)
 */

/** Lower-case two-digit hex of every byte value, indexed by the byte. */
export const BYTE_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, byte) => byte.toString(16).padStart(2, "0"),
);

const DIGITS = "0123456789abcdef";
/** The char codes of each byte's high and low hex digit. */
const HIGH = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS.charCodeAt(byte >> 4));
const LOW = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS.charCodeAt(byte & 15));

// 4 KiB holds 170 trace+span id pairs; the refill cost is spread over all of them.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE; // empty: the first id fills the pool

/** The bytes of the id being made: `[0, 16)` a trace id, `[16, 24)` a span id. */
const DRAWN = new Uint8Array(24);

/** `count` fresh random bytes into `DRAWN` from `at`; false when they are all zero. */
function draw(at: number, count: number): boolean {
  if (offset + count > POOL_SIZE) {
    crypto.getRandomValues(pool);
    offset = 0;
  }
  let any = 0;
  for (let i = 0; i < count; i++) {
    const byte = pool[offset + i];
    DRAWN[at + i] = byte;
    any |= byte;
  }
  offset += count;
  return any !== 0;
}

const hex = String.fromCharCode;

/** A random W3C trace id: 16 bytes as 32 lower-case hex digits, never all zero. */
export function newTraceId(): string {
  while (!draw(0, 16));
  const b = DRAWN;
  return hex(
    HIGH[b[0]],
    LOW[b[0]],
    HIGH[b[1]],
    LOW[b[1]],
    HIGH[b[2]],
    LOW[b[2]],
    HIGH[b[3]],
    LOW[b[3]],
    HIGH[b[4]],
    LOW[b[4]],
    HIGH[b[5]],
    LOW[b[5]],
    HIGH[b[6]],
    LOW[b[6]],
    HIGH[b[7]],
    LOW[b[7]],
    HIGH[b[8]],
    LOW[b[8]],
    HIGH[b[9]],
    LOW[b[9]],
    HIGH[b[10]],
    LOW[b[10]],
    HIGH[b[11]],
    LOW[b[11]],
    HIGH[b[12]],
    LOW[b[12]],
    HIGH[b[13]],
    LOW[b[13]],
    HIGH[b[14]],
    LOW[b[14]],
    HIGH[b[15]],
    LOW[b[15]],
  );
}

/** A random W3C span id: 8 bytes as 16 lower-case hex digits, never all zero. */
export function newSpanId(): string {
  while (!draw(16, 8));
  const b = DRAWN;
  return hex(
    HIGH[b[16]],
    LOW[b[16]],
    HIGH[b[17]],
    LOW[b[17]],
    HIGH[b[18]],
    LOW[b[18]],
    HIGH[b[19]],
    LOW[b[19]],
    HIGH[b[20]],
    LOW[b[20]],
    HIGH[b[21]],
    LOW[b[21]],
    HIGH[b[22]],
    LOW[b[22]],
    HIGH[b[23]],
    LOW[b[23]],
  );
}
