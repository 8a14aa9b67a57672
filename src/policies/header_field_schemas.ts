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
 * A header value: no control character but HTAB (RFC 9110 §5.5). CR, LF and NUL would split or
 * truncate the header block; the others are refused by Deno's server when a request arrives,
 * and make its HTTP/1.1 writer panic (the whole gateway stops) when a response carries them.
 */
export const headerValue = z.string().refine(
  // deno-lint-ignore no-control-regex
  (v) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(v),
  "must not contain control characters (CR, LF, NUL, DEL...) other than tab",
);
