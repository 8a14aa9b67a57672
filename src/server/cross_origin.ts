/**
 * Telling a request a browser sent on behalf of another web site. The admin listener trusts
 * loopback callers, and a browser on the operator's machine is one: a plain HTML form on any
 * site can POST to http://127.0.0.1:9901/reload without a CORS preflight. Browsers mark such
 * requests (Fetch Metadata `Sec-Fetch-Site`, else `Origin`); curl and scripts send neither.
 * The same rules as Go's `http.CrossOriginProtection`.
 */

/**
 * The origin a browser says it sent `req` from, when that is not the server's own origin;
 * `undefined` for same-origin requests, requests the user typed, and non-browser clients.
 */
export function foreignOrigin(req: Request): string | undefined {
  const site = req.headers.get("sec-fetch-site");
  const origin = req.headers.get("origin");
  if (site !== null) {
    // `same-site` is refused too: a page on another port of localhost is another site's.
    return site === "same-origin" || site === "none" ? undefined : origin ?? `(${site})`;
  }
  if (origin === null) return undefined;
  // Browsers without Fetch Metadata: the Origin's host[:port] must be the one asked for
  // (Deno.serve builds the request URL's authority from Host).
  return URL.canParse(origin) && new URL(origin).host === new URL(req.url).host
    ? undefined
    : origin;
}
