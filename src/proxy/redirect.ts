/**
 * Route-level redirects answered by the gateway. `{path}`, `{query}` and `:param` placeholders
 * in the target are filled from the request; the query is kept unless `to` places it itself.
 */
import type { NormalizedRoute } from "../config/normalized.ts";
import type { ProxyState } from "./state.ts";

/** Builds the `Location` for a redirect route. */
export function redirectLocation(
  to: string,
  path: string,
  query: string,
  params: Record<string, string>,
): string {
  const placesQuery = to.includes("{query}");
  let location = to
    .replaceAll("{path}", path)
    .replaceAll("{query}", query)
    .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name) => params[name] ?? whole);
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
