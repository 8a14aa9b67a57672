/**
 * Byte <-> string helpers for HTTP/1 heads. Header names and values are ByteStrings (one char per
 * byte, 0-255), so they are Latin-1, never UTF-8. These run once or twice per request, so they
 * avoid regexes and intermediate strings.
 */

const utf8 = new TextDecoder();

/**
 * Decodes `buf[start, end)` as Latin-1. `ascii` says the caller already knows every byte is below
 * 0x80, in which case the native UTF-8 decoder gives the same string faster.
 */
export function decodeLatin1(buf: Uint8Array, start: number, end: number, ascii: boolean): string {
  if (ascii) return utf8.decode(buf.subarray(start, end));
  // `TextDecoder("latin1")` is windows-1252 per the Encoding standard (0x80-0x9f differ), so map
  // code units by hand, in slices small enough for `apply`'s argument limit.
  let out = "";
  for (let i = start; i < end; i += 4096) {
    const slice = buf.subarray(i, Math.min(i + 4096, end));
    out += String.fromCharCode.apply(null, slice as unknown as number[]);
  }
  return out;
}

/** `TOKEN[c] === 1` when byte `c` is a tchar (RFC 9110 §5.6.2). */
export const TOKEN: Uint8Array = (() => {
  const table = new Uint8Array(256);
  const extra = "!#$%&'*+-.^_`|~";
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  for (let i = 0; i < extra.length; i++) table[extra.charCodeAt(i)] = 1;
  return table;
})();

/**
 * Classifies `s[from, to)` as a field name: -1 when it is not a non-empty token, 1 when it is one
 * with upper-case letters (so it needs lower-casing), 0 when it is already lower-case.
 */
export function tokenCase(s: string, from: number, to: number): number {
  if (from >= to) return -1;
  let upper = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || TOKEN[c] === 0) return -1;
    if (c >= 0x41 && c <= 0x5a) upper = 1;
  }
  return upper;
}
