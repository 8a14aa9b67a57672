/**
 * Route-level redirects answered by the gateway. `{path}`, `{query}` and `:param` placeholders
 * in the target are filled from the request; the query is kept unless `to` places it itself.
 */
import type { NormalizedRoute } from "../config/normalized.ts";
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
  return location;
}

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
