/**
 * Where a bearer token comes from (RFC 6750 §2): the `Authorization: Bearer` header, and
 * optionally a cookie or a query parameter; and how to remove it from what is forwarded, for
 * routes that keep tokens away from their upstream.
 */
import { cookieValue } from "../proxy/cookies.ts";

export interface TokenSources {
  cookie?: string;
  query?: string;
}

/** A token found in a request, and where. */
export interface FoundToken {
  token: string;
  from: "header" | "cookie" | "query";
}

/** Why the request's credentials cannot be a bearer token. */
export interface MalformedToken {
  malformed: string;
}

// RFC 6750 §2.1: b64token. A JWT's three base64url parts always fit.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = "bearer";

/**
 * The request's token: the `Authorization` header first, then the cookie, then the query
 * parameter (when configured). `undefined` when there is none; {@link MalformedToken} when an
 * `Authorization: Bearer` header is present but unusable.
 */
export function findToken(
  headers: Headers,
  query: string,
  sources: TokenSources,
): FoundToken | MalformedToken | undefined {
  const authorization = headers.get("authorization");
  if (authorization !== null) {
    const token = bearerCredentials(authorization.trim());
    // Another scheme (Basic, …) is not a bearer token: answered like a missing one.
    if (token !== undefined) {
      if (!B64TOKEN.test(token)) {
        return { malformed: "the Authorization header is not `Bearer <token>`" };
      }
      return { token, from: "header" };
    }
  }
  if (sources.cookie !== undefined) {
    const token = cookieValue(headers.get("cookie"), sources.cookie);
    if (token) return { token, from: "cookie" };
  }
  if (sources.query !== undefined) {
    const token = queryValue(query, sources.query);
    if (token) return { token, from: "query" };
  }
  return undefined;
}

/**
 * What follows `Bearer ` (scheme case-insensitive, RFC 9110 §11.1), trimmed; `undefined` for
 * another scheme. Done by hand: a regular expression capturing a ~1 KB token cost more on every
 * request than the rest of the lookup.
 */
function bearerCredentials(authorization: string): string | undefined {
  if (authorization.length < SCHEME.length) return undefined;
  if (authorization.slice(0, SCHEME.length).toLowerCase() !== SCHEME) return undefined;
  if (authorization.length === SCHEME.length) return "";
  return authorization[SCHEME.length] === " "
    ? authorization.slice(SCHEME.length).trim()
    : undefined;
}

/** The first value of parameter `name` in a query string (with or without its `?`). */
export function queryValue(query: string, name: string): string | undefined {
  for (const pair of stripMark(query).split("&")) {
    const eq = pair.indexOf("=");
    if (decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq)) !== name) continue;
    return eq < 0 ? "" : decodeQueryPart(pair.slice(eq + 1));
  }
  return undefined;
}

/**
 * `pathAndQuery` without parameter `name`. Only that parameter's pairs go; the others are kept
 * byte for byte (re-encoding them could change what the upstream sees).
 */
export function withoutQueryParam(pathAndQuery: string, name: string): string {
  const mark = pathAndQuery.indexOf("?");
  if (mark < 0) return pathAndQuery;
  const kept = pathAndQuery.slice(mark + 1).split("&").filter((pair) => {
    const eq = pair.indexOf("=");
    return decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq)) !== name;
  });
  const path = pathAndQuery.slice(0, mark);
  return kept.length > 0 ? `${path}?${kept.join("&")}` : path;
}

function stripMark(query: string): string {
  return query.startsWith("?") ? query.slice(1) : query;
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return part; // Malformed escapes: compared as written.
  }
}
