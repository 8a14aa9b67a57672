/**
 * A protobuf wire-format writer, just what OTLP needs: varints, fixed-width numbers, strings,
 * bytes and nested messages, appended to one growable buffer.
 *
 * A nested message's length comes before its content, so `begin` reserves the longest length a
 * message here can need (5 bytes) and `end` writes the real one and moves the content back over
 * the bytes left unused: one short copy instead of sizing every message in a first pass.
 */

const RESERVED = 5; // a varint of up to 2^35 - 1; no message here comes near 32 MiB
const TWO_32 = 2 ** 32;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextEncoder();

/** See the module comment. */
export class ProtoWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #pos = 0;

  constructor(initialBytes = 4096) {
    this.#buf = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** What was written, as a view (no copy): valid until the next write. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(0, this.#pos);
  }

  /** Drops everything written after the first `length` bytes (a message that failed half-way). */
  truncate(length: number): void {
    if (length < this.#pos) this.#pos = length;
  }

  /**
   * Room for `bytes` more bytes, for a caller that writes them itself: returns the buffer, to be
   * written from {@link length} on, then committed with {@link commit}. Valid until the next
   * call that writes.
   */
  claim(bytes: number): Uint8Array<ArrayBuffer> {
    this.#room(bytes);
    return this.#buf;
  }

  /** Ends a {@link claim}: the bytes up to `length` are now written. */
  commit(length: number): void {
    this.#pos = length;
  }

  /** Appends bytes written by another writer (a message's already encoded fields). */
  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }

  /** A varint field; `value` is a non-negative safe integer. */
  uint(field: number, value: number): void {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
  }

  /** An int64 field: negative values take ten bytes, as two's complement. */
  int64(field: number, value: number | bigint): void {
    if (typeof value === "number" && value >= 0) return this.uint(field, value);
    this.#tag(field, WIRE_VARINT);
    let rest = BigInt.asUintN(64, BigInt(value));
    this.#room(10);
    while (rest >= 0x80n) {
      this.#buf[this.#pos++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#buf[this.#pos++] = Number(rest);
  }

  bool(field: number, value: boolean): void {
    this.#tag(field, WIRE_VARINT);
    this.#room(1);
    this.#buf[this.#pos++] = value ? 1 : 0;
  }

  double(field: number, value: number): void {
    this.#tag(field, WIRE_FIXED64);
    this.#room(8);
    this.#view.setFloat64(this.#pos, value, true);
    this.#pos += 8;
  }

  fixed32(field: number, value: number): void {
    this.#tag(field, WIRE_FIXED32);
    this.#room(4);
    this.#view.setUint32(this.#pos, value, true);
    this.#pos += 4;
  }

  /** A fixed64 field given as its low and high 32-bit halves (JS numbers stop at 2^53). */
  fixed64(field: number, low: number, high: number): void {
    this.#tag(field, WIRE_FIXED64);
    this.#room(8);
    this.#pos = putUint32(this.#buf, putUint32(this.#buf, this.#pos, low), high);
  }

  string(field: number, value: string): void {
    this.#tag(field, WIRE_LENGTH);
    const lengthAt = this.#pos;
    // Most of what a gateway records is ASCII: written by `ascii`, assuming the byte length is
    // the string length; redone through the encoder if not.
    this.#varint(value.length);
    if (this.ascii(value)) return;
    this.#pos = lengthAt;
    const encoded = utf8.encode(value);
    this.#varint(encoded.length);
    this.raw(encoded);
  }

  /**
   * The header of a length-delimited field whose content the caller then writes, exactly
   * `length` bytes of it: for small messages whose size is known up front, which then need no
   * {@link begin}/{@link end} and no move (see {@link ascii} for strings).
   */
  header(field: number, length: number): void {
    this.#tag(field, WIRE_LENGTH);
    this.#varint(length);
  }

  /**
   * `value`'s characters as bytes, without a header, when it is all ASCII (its byte length is
   * then its length). Returns false at the first other character, with part of it written: the
   * caller truncates and writes it another way.
   */
  ascii(value: string): boolean {
    this.#room(value.length);
    const pos = putAscii(this.#buf, this.#pos, value);
    if (pos < 0) return false;
    this.#pos = pos;
    return true;
  }

  bytesField(field: number, value: Uint8Array): void {
    this.#tag(field, WIRE_LENGTH);
    this.#varint(value.length);
    this.raw(value);
  }

  /** A bytes field from lower-case hex (trace and span ids). */
  hex(field: number, value: string): void {
    const n = value.length >> 1;
    this.#tag(field, WIRE_LENGTH);
    this.#varint(n);
    this.#room(n);
    this.#pos = putHex(this.#buf, this.#pos, value);
  }

  /** Opens a nested message field; pass what it returns to {@link end}. */
  begin(field: number): number {
    this.#tag(field, WIRE_LENGTH);
    this.#room(RESERVED);
    const start = this.#pos;
    this.#pos += RESERVED;
    return start;
  }

  /** Closes the nested message opened at `start`. */
  end(start: number): void {
    const contentStart = start + RESERVED;
    const length = this.#pos - contentStart;
    const size = varintSize(length);
    let at = start;
    let rest = length;
    while (rest >= 0x80) {
      this.#buf[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.#buf[at++] = rest;
    if (size < RESERVED) {
      this.#buf.copyWithin(start + size, contentStart, this.#pos);
      this.#pos -= RESERVED - size;
    }
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number): void {
    this.#room(10);
    this.#pos = putVarint(this.#buf, this.#pos, value);
  }

  #room(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + bytes) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }
}

// Writers into a buffer with room, each returning the position after what it wrote: the
// writer's methods use them, and so does `encode_span_fast.ts`, which sizes a span up front.

/** A varint of `value`, a non-negative safe integer. */
export function putVarint(buf: Uint8Array, pos: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    buf[pos++] = (rest % 0x80) | 0x80;
    rest = rest >= TWO_32 ? Math.floor(rest / 0x80) : rest >>> 7;
  }
  buf[pos++] = rest;
  return pos;
}

/** `text`'s characters as bytes; -1 at the first one that is not ASCII (part is written). */
export function putAscii(buf: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    buf[pos++] = code;
  }
  return pos;
}

/** Lower-case hex (an id Ferry made or validated) as its bytes. */
export function putHex(buf: Uint8Array, pos: number, hex: string): number {
  for (let i = 0; i < hex.length; i += 2) {
    buf[pos++] = (HEX_VALUE[hex.charCodeAt(i)] << 4) | HEX_VALUE[hex.charCodeAt(i + 1)];
  }
  return pos;
}

/** A 32-bit word, little endian (half of a fixed64). */
export function putUint32(buf: Uint8Array, pos: number, word: number): number {
  buf[pos] = word & 0xff;
  buf[pos + 1] = (word >>> 8) & 0xff;
  buf[pos + 2] = (word >>> 16) & 0xff;
  buf[pos + 3] = word >>> 24;
  return pos + 4;
}

/** The value of each lower-case hex digit by its char code (ids are lower-case by construction). */
const HEX_VALUE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) HEX_VALUE["0123456789abcdef".charCodeAt(digit)] = digit;

/** Bytes a varint of `value` (a non-negative safe integer) takes. */
export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}
