/**
 * Header values as text, and back. Values arrive as ByteStrings, one character per byte, so
 * `Zürich` sent as UTF-8 (as browsers and curl send it) reads `ZÃ¼rich`. Route conditions and
 * canary rules compare against config text, and sticky splits hash it, so the live request
 * decodes the bytes as UTF-8 first ({@link headerText}), and `explain` turns the headers a user
 * types into the bytes a client would send ({@link wireHeaders}): both then see the same text.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Only values with a byte above 0x7f need decoding; every other value is returned as is. */
const NON_ASCII = /[\x80-\xff]/;
/** Text a client must send as more than one byte per character. */
const BEYOND_ASCII = /[\u0080-\uffff]/;
/** A value a policy set from a JS string could hold text no byte can: leave those alone. */
const BEYOND_A_BYTE = /[\u0100-\uffff]/;

/**
 * A received value as the text the client meant. Bytes that are not UTF-8 (Latin-1 from an old
 * client) stay as they are: the value still identifies the same user every time.
 */
export function headerText(value: string): string {
  if (!NON_ASCII.test(value) || BEYOND_A_BYTE.test(value)) return value;
  try {
    return utf8.decode(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  } catch {
    return value;
  }
}

/**
 * Headers as a client sends them when given these values as text: each non-ASCII value as its
 * UTF-8 bytes, one character per byte (`new Headers` refuses text beyond U+00FF outright, and
 * would keep `ü` as the one byte a UTF-8 client never sends). Throws `TypeError` for a name or
 * value no header can carry, as `new Headers` does.
 */
export function wireHeaders(init?: HeadersInit): Headers {
  const pairs: [string, string][] = init === undefined
    ? []
    : init instanceof Headers
    ? [...init]
    : Array.isArray(init)
    ? init.map(([name, value]) => [name, value])
    : Object.entries(init);
  return new Headers(pairs.map(([name, value]) => [name, wireText(value)]));
}

/** `value`'s UTF-8 bytes as a ByteString; ASCII is returned as is. */
function wireText(value: string): string {
  if (!BEYOND_ASCII.test(value)) return value;
  let bytes = "";
  for (const byte of encoder.encode(value)) bytes += String.fromCharCode(byte);
  return bytes;
}
