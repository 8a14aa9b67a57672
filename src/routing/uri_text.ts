/**
 * Text as it travels in a request target or a `Location`: RFC 3986 is ASCII only, and HTTP/1.1
 * servers (Deno's among them) refuse spaces and non-ASCII bytes in a request line, so clients send
 * such characters percent-encoded as UTF-8. One definition for request targets, route patterns,
 * rewrite prefixes and redirect targets, so that all of them read `café` the same way.
 */

const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/;
const EACH_NOT_VISIBLE_ASCII = /[^\x21-\x7e]/gu;

/**
 * `text` with every character outside visible ASCII percent-encoded as UTF-8 in upper-case hex
 * (`/café x` → `/caf%C3%A9%20x`), as browsers send it. Escapes already there are left alone, so
 * encoded text is not encoded twice. A lone UTF-16 surrogate, which has no UTF-8 form (and would
 * make `encodeURIComponent` throw), goes out as U+FFFD.
 */
export function uriEncodedText(text: string): string {
  if (!NOT_VISIBLE_ASCII.test(text)) return text;
  return text.toWellFormed().replace(EACH_NOT_VISIBLE_ASCII, encodeURIComponent);
}
