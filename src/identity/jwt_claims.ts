/**
 * Reading claims out of a verified JWT payload: by path, as granted scopes, and as header
 * values for the upstream.
 */
import type { JWTPayload } from "jose";

/**
 * The claim at `path`: a top-level claim named exactly `path` when there is one (namespaced
 * claims such as `https://example.com/roles` contain dots), else the dotted path into nested
 * objects (`org.id`). `undefined` when absent.
 */
export function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const segment of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/**
 * Scopes the token grants: `scope` as a space-separated string (RFC 8693 §4.2, RFC 9068), and
 * `scp` as a list or string (Azure AD, Okta).
 */
export function grantedScopes(payload: JWTPayload): ReadonlySet<string> {
  // A remembered token's payload is frozen and comes back on every request: parse it once.
  const known = scopesOfFrozen.get(payload);
  if (known) return known;
  const granted = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string") {
      for (const scope of value.split(" ")) if (scope) granted.add(scope);
    } else if (Array.isArray(value)) {
      for (const scope of value) if (typeof scope === "string" && scope) granted.add(scope);
    }
  };
  add(payload.scope);
  add(payload.scp);
  if (Object.isFrozen(payload)) scopesOfFrozen.set(payload, granted);
  return granted;
}

const scopesOfFrozen = new WeakMap<JWTPayload, ReadonlySet<string>>();

// Printable ASCII and space: what any upstream parses the same way.
const PLAIN_HEADER_VALUE = /^[\x20-\x7e]*$/;

/**
 * A claim as a request-header value: strings as they are, numbers and booleans as text, lists
 * joined with `,`, objects as JSON; `undefined` for absent or null claims. Anything outside
 * printable ASCII is percent-encoded (UTF-8), so a claim can never smuggle CR/LF or bytes that
 * upstreams decode differently; a lone surrogate is encoded as U+FFFD.
 */
export function claimHeaderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else if (Array.isArray(value)) {
    text = value.map((item) => typeof item === "string" ? item : JSON.stringify(item)).join(",");
  } else text = JSON.stringify(value);
  if (PLAIN_HEADER_VALUE.test(text)) return text;
  // JSON lets a claim hold a lone UTF-16 surrogate (`"\ud83d"`, an emoji cut in half by an
  // issuer truncating a name), which `encodeURIComponent` refuses with a URIError: sent as
  // U+FFFD instead, the way a UTF-8 decoder would have read those bytes.
  return encodeURIComponent(text.toWellFormed());
}
