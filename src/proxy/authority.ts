/**
 * The authority a request names (RFC 9112 §3.2, RFC 3986 §3.2): `host[:port]`, where host is a
 * registered name or IPv4 address (letters, digits, `-._~` and sub-delims) or a bracketed IP
 * literal, and port is at most 65535. No userinfo, no spaces, no `/`, `?` or `#`. RFC 3986 also
 * allows percent-escapes in a name, but WHATWG URL parsers (Deno's, browsers') refuse some of
 * them (`%00`), so an upstream could not parse the Host; names on the wire are ASCII (IDNs as
 * punycode), and a zone id (`[fe80::1%25eth0]`) stays allowed inside brackets.
 *
 * Deno.serve takes the `Host` header as it comes and builds `req.url` from it, so `a b`,
 * `user@a`, `a:99999` or `café` became a URL nothing downstream could parse. The authority in
 * `req.url` is checked before routing and refused with 400, as RFC 9112 §3.2 requires of a
 * server for a Host field with an invalid value. One shape is out of its reach: in `Host: a/b`
 * Deno takes `a` for the host and `/b` for the start of the path; gateway and upstream then
 * agree on both (the client could have sent that host and path itself), so it is let through
 * rather than paying for a second read of the Host header on every request (~2% of CPU).
 */

const AUTHORITY =
  /^(?:\[[0-9A-Za-z:._~!$&'()*+,;=%-]+\]|([0-9A-Za-z._~!$&'()*+,;=-]+))(?::(\d{1,5}))?$/;
/** A last label that URL parsers take for a number (decimal or hex), trailing dot allowed. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * Authorities already found valid. Nearly every request names one of a few hosts, and checking
 * one costs ~0.3-0.6 µs of regular expressions where a lookup costs a few ns. Bounded: emptied
 * when full, so a client cycling through made-up hosts cannot grow it.
 */
const knownValid = new Set<string>();
const KNOWN_VALID_MAX = 256;

/** Whether `authority` is a valid `host[:port]` (see the module comment). */
export function isValidAuthority(authority: string): boolean {
  if (knownValid.has(authority)) return true;
  if (!checkAuthority(authority)) return false;
  if (knownValid.size >= KNOWN_VALID_MAX) knownValid.clear();
  knownValid.add(authority);
  return true;
}

function checkAuthority(authority: string): boolean {
  const match = AUTHORITY.exec(authority);
  if (match === null) return false;
  const [, name, port] = match;
  if (port !== undefined && Number(port) > 65_535) return false;
  // A name ending in a number is an IPv4 address or nothing (RFC 3696 §2: no all-numeric top
  // label); URL parsers read `a.4` or `1.2.3.999` as a broken address and refuse the URL.
  return name === undefined || !NUMERIC_LAST_LABEL.test(name) || IPV4.test(name);
}

/** Why the request's authority (the one in `req.url`, what routing reads) is refused, if it is. */
export function authorityProblem(authority: string): string | undefined {
  return isValidAuthority(authority)
    ? undefined
    : `invalid Host ${JSON.stringify(authority.slice(0, 100))}`;
}
