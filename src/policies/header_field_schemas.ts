/**
 * Option schemas for HTTP header fields, shared by every policy that names, matches or sets a
 * header. Messages start with "must": validation puts the value found in front of them.
 */
import { z } from "zod";

/** An HTTP header name (RFC 9110 token). */
export const headerName = z.string().regex(
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
  "must be a valid HTTP header name",
);

/**
 * A control character other than HTAB, which no header value may hold (RFC 9110 §5.5). CR, LF
 * and NUL would split or truncate the header block; the others are refused by Deno's server when
 * a request arrives, and make its HTTP/1.1 writer panic (the whole gateway stops) when a
 * response carries them.
 */
// deno-lint-ignore no-control-regex
export const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A header value: no control character but HTAB (see {@link CONTROL_CHARACTER}). */
export const headerValue = z.string().refine(
  (v) => !CONTROL_CHARACTER.test(v),
  "must not contain control characters (CR, LF, NUL, DEL...) other than tab",
);
