/**
 * The client's response to a forward-auth denial: the auth service's own answer (a 401 with its
 * challenge, a 302 to a login page, a 403 page), so the login flow works as if the client had
 * talked to the auth service. Only what belongs to the gateway's connection is changed.
 */
import { hopByHopFilter } from "../proxy/hop_by_hop.ts";

/**
 * Not copied besides hop-by-hop headers: `fetch` has already decoded the body (so the coding
 * and length no longer describe it; `Response` sets the length again), and the request id is
 * the gateway's.
 */
const REWRITTEN = new Set(["content-length", "content-encoding", "x-request-id"]);

/** Statuses that cannot carry a body (a `Response` with one throws). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * Builds the client's response from a denial. `body` is `undefined` when the auth service's was
 * too large to hand on: the status and headers (challenge, `Location`) still carry the decision,
 * so they are kept and the body is left empty.
 */
export function denialResponse(
  status: number,
  headers: Headers,
  body: Uint8Array<ArrayBuffer> | undefined,
  requestId: string,
): Response {
  const drop = hopByHopFilter(headers.get("connection"));
  const out = new Headers();
  for (const [name, value] of headers) {
    if (drop(name) || REWRITTEN.has(name)) continue;
    if (body === undefined && name === "content-type") continue;
    // Iteration yields each Set-Cookie on its own, so appending keeps them apart.
    out.append(name, value);
  }
  out.set("x-request-id", requestId);
  const payload = NULL_BODY.has(status) || !body || body.byteLength === 0 ? null : body;
  return new Response(payload, { status, headers: out });
}
