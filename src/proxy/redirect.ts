/**
 * Route-level redirects answered by the gateway. `{path}`, `{query}` and `:param` placeholders
 * in the target are filled from the request; the query is kept unless `to` places it itself.
 */
import type { NormalizedRoute } from "../config/normalized.ts";
import { uriEncodedText } from "../routing/uri_text.ts";
import type { ProxyState } from "./state.ts";

const PLACEHOLDER = /\{path\}|\{query\}|:([A-Za-z_][A-Za-z0-9_]*)/g;

/** Builds the `Location` for a redirect route. */
export function redirectLocation(
  to: string,
  path: string,
  query: string,
  params: Record<string, string>,
): string {
  const placesQuery = to.includes("{query}");
  // One pass over the template: what the request supplies (path, query, parameter values) is
  // inserted as is, never scanned again for placeholders (`?next=:id` must stay `?next=:id`).
  let location = to.replace(PLACEHOLDER, (whole, name: string | undefined) => {
    if (whole === "{path}") return path;
    if (whole === "{query}") return query;
    return params[name!] ?? whole;
  });
  if (!placesQuery && query) location += (location.includes("?") ? "&" : "?") + query;
  // Percent-encoded as UTF-8, what a configured target may hold that a header cannot: a `to` of
  // `/日本` is no ByteString (`new Response` throws: every request got a 500), and `café` went
  // out as the Latin-1 byte 0xE9, which clients do not read back as `é`.
  return uriEncodedText(to.startsWith("/") ? pathAbsolute(location) : location);
}

const LEADING_SLASHES = /^[/\\]+/;

/**
 * A `to` written as a path stays a path on this host: filled in, `/{path}` for a request to
 * `/evil.com/x` read `//evil.com/x`, which browsers follow to another host (an open redirect).
 * Runs of leading slashes merge into one, as request paths do; only on `//` or `/\\`.
 */
function pathAbsolute(location: string): string {
  const second = location.charCodeAt(1);
  return second === SLASH || second === BACKSLASH
    ? location.replace(LEADING_SLASHES, "/")
    : location;
}

const SLASH = 47;
const BACKSLASH = 92;

/** The redirect response for `route`. */
export function redirectResponse(
  route: NormalizedRoute,
  state: ProxyState,
  path: string,
  query: string,
): Response {
  const { to, status } = route.redirect!;
  return new Response(null, {
    status,
    headers: {
      location: redirectLocation(to, path, query, state.match.params),
      "x-request-id": state.requestId,
    },
  });
}
