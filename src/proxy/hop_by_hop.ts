/**
 * RFC 9110 §7.6.1: connection-specific headers are not forwarded, and neither is any header the
 * `Connection` header names. Both directions use this. Framing (`content-length`,
 * `transfer-encoding`) is rewritten by the client for requests, so those are skipped too.
 */

/** Headers that are always connection-specific. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Lower-cased tokens of a `Connection` header value: `"close, X-Foo"` → `["close","x-foo"]`. */
export function connectionTokens(value: string | null | undefined): string[] {
  if (!value) return [];
  return value.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0);
}

/**
 * A predicate for "drop this header" given the message's `Connection` value. The common case
 * (no Connection header, or only keep-alive/close) allocates nothing.
 */
export function hopByHopFilter(connection: string | null | undefined): (name: string) => boolean {
  const named = connectionTokens(connection).filter((t) => t !== "close" && t !== "keep-alive");
  if (named.length === 0) return isHopByHop;
  const extra = new Set(named);
  return (name) => HOP_BY_HOP.has(name) || extra.has(name);
}

/**
 * `HOP_BY_HOP.has(name)`, with the length checked first: names come fresh off the wire, so a set
 * lookup hashes every one, while no common end-to-end header (date, server, content-type, …)
 * has the length of a hop-by-hop one.
 */
function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_LENGTHS[name.length] === 1 && HOP_BY_HOP.has(name);
}

const HOP_BY_HOP_LENGTHS = new Uint8Array(32);
for (const name of HOP_BY_HOP) HOP_BY_HOP_LENGTHS[name.length] = 1;

/**
 * The request's end-to-end header list when its `Connection` names fields of its own
 * (`Connection: x-tenant`): a copy without them, whose `Connection` keeps only the standard
 * tokens (`close`, `upgrade`, ...). `undefined` when there is nothing to remove (the usual case).
 *
 * Why a copy at the start, not a filter at the end: policies add fields to the outgoing list
 * (a tenant, an authenticated user), and a filter applied when forwarding cannot tell those from
 * the client's, so a client naming `x-tenant` in `Connection` had the gateway's own `x-tenant`
 * removed before the upstream saw it. Dropped here, the client's copy is gone before any policy
 * runs, and what policies set is forwarded.
 */
export function withoutConnectionNamed(headers: Headers): Headers | undefined {
  const connection = headers.get("connection");
  if (connection === null) return undefined;
  const lower = connection.toLowerCase();
  if (lower === "keep-alive" || lower === "close") return undefined;
  const tokens = connectionTokens(connection);
  const kept = tokens.filter((t) => t === "close" || t === "keep-alive" || HOP_BY_HOP.has(t));
  if (kept.length === tokens.length) return undefined;
  const copy = new Headers(headers);
  for (const token of tokens) {
    // `Headers.delete` throws for a name that is not a token (`Connection: a/b`), and no field
    // with such a name can be in the list anyway.
    if (!kept.includes(token) && FIELD_NAME.test(token)) copy.delete(token);
  }
  if (kept.length > 0) copy.set("connection", kept.join(", "));
  else copy.delete("connection");
  return copy;
}

const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
