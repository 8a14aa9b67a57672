import { normalizePath, splitPath } from "./path_pattern.ts";
import { uriEncodedText } from "./uri_text.ts";

/** The parts of a request that routing looks at, parsed once and shared by every route. */
export interface MatchInput {
  readonly method: string;
  /** Lower-case host without port (`[::1]` keeps its brackets). */
  readonly host: string;
  readonly path: string;
  readonly segments: readonly string[];
  /** Raw query without `?`, or `""`. */
  readonly query: string;
  header(name: string): string | null;
  queryParam(name: string): string | null;
}

/** The host, path and query of an absolute URL string, without a full URL parse. */
export interface UrlParts {
  host: string;
  path: string;
  query: string;
}

/**
 * Splits `req.url` (always absolute in Deno.serve) cheaply. `new URL()` per request costs more
 * than the whole route match. Deno does not normalise the target the client sent (`/a/../b`
 * arrives as is), so the path goes through {@link normalizePath}: what routes match is what the
 * upstream is sent.
 *
 * Nor does Deno percent-encode it: curl and most non-browser clients send `/café` as raw UTF-8
 * bytes, which Deno.serve accepts and decodes into `req.url`. Such a path and query are read as
 * the percent-encoded UTF-8 a browser sends for them (`/caf%C3%A9`): routes written with `é`
 * match it, and the upstream is sent a valid request line. Read as is, `/café/x` missed its
 * route for a catch-all (and that route's policies), then the upstream client refused to write
 * it and the client got a 502 blaming a healthy upstream. ASCII targets pay one regex scan of
 * the path and query (~30 ns).
 */
export function splitUrl(url: string): UrlParts {
  const authorityStart = url.indexOf("//") + 2;
  // Deno.serve always puts a "/" after the authority it built from Host, and a "?" or "#" in
  // the Host stays in the authority here, where the handler refuses it as an invalid Host.
  let pathStart = url.indexOf("/", authorityStart);
  if (pathStart < 0) pathStart = url.length;
  const hashStart = url.indexOf("#", pathStart);
  let queryStart = url.indexOf("?", pathStart);
  // A "?" inside the fragment (`/a#b?c`) starts no query.
  if (hashStart >= 0 && queryStart > hashStart) queryStart = -1;
  const pathEnd = queryStart >= 0 ? queryStart : hashStart >= 0 ? hashStart : url.length;
  let path = pathStart === url.length ? "/" : url.slice(pathStart, pathEnd);
  let query = queryStart >= 0
    ? url.slice(queryStart + 1, hashStart >= 0 ? hashStart : url.length)
    : "";
  // Scanned from the path on: the authority needs no scan here (authorityProblem reads it).
  NOT_VISIBLE_ASCII.lastIndex = pathStart;
  if (NOT_VISIBLE_ASCII.test(url)) {
    path = uriEncodedText(path);
    query = uriEncodedText(query);
  }
  return {
    host: url.slice(authorityStart, pathStart),
    path: normalizePath(path),
    query,
  };
}

/**
 * What a request target cannot carry as is. Deno.serve refuses spaces, controls and invalid
 * UTF-8 in one (400), so from it only non-ASCII arrives; a URL typed into `explain` may hold any.
 * Global only so that a scan can start at `lastIndex`.
 */
const NOT_VISIBLE_ASCII = /[^\x21-\x7e]/g;

/** `API.Example.com:8080` → `api.example.com`; `[::1]:80` → `[::1]`; trailing dot removed. */
export function normalizeHost(authority: string): string {
  let host = authority;
  const at = host.lastIndexOf("@");
  if (at >= 0) host = host.slice(at + 1);
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    host = close >= 0 ? host.slice(0, close + 1) : host;
  } else {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host.toLowerCase();
}

/** A request as routing sees it: a class, so building one per request allocates no closures. */
export class RequestView implements MatchInput {
  readonly host: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly query: string;
  #params: URLSearchParams | undefined;

  constructor(
    readonly method: string,
    parts: UrlParts,
    private readonly headers: { get(name: string): string | null },
  ) {
    this.host = normalizeHost(parts.host);
    this.path = parts.path;
    this.segments = splitPath(parts.path);
    this.query = parts.query;
  }

  header(name: string): string | null {
    return this.headers.get(name);
  }

  queryParam(name: string): string | null {
    this.#params ??= new URLSearchParams(this.query);
    return this.#params.get(name);
  }
}

/**
 * Builds a {@link MatchInput} over a request's method, URL and headers, for `explain`: the URL is
 * one a person typed, so `http://host?q=1` means what a client sends for it, `/?q=1` to `host`.
 */
export function matchInput(
  method: string,
  url: string,
  headers: { get(name: string): string | null },
): MatchInput {
  return new RequestView(method, splitUrl(withPath(url)), headers);
}

/** `http://host?q` → `http://host/?q`: the authority of a typed URL ends at "/", "?" or "#". */
function withPath(url: string): string {
  const authorityStart = url.indexOf("//") + 2;
  const end = url.slice(authorityStart).search(/[/?#]/);
  if (end < 0) return url + "/";
  const at = authorityStart + end;
  return url[at] === "/" ? url : `${url.slice(0, at)}/${url.slice(at)}`;
}
