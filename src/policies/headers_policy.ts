/** How the `headers` policy validates its options and edits headers. */
import { z } from "zod";
import type { HeaderRules } from "../config/types.ts";
import { HOP_BY_HOP } from "../proxy/hop_by_hop.ts";
import { OWNED, PEER_CLAIMS } from "../proxy/outbound_headers.ts";
import { editableRequestHeaders, type ProxyState } from "../proxy/state.ts";
import { headerName, headerValue } from "./header_field_schemas.ts";
import type { HeadersOptions } from "./headers.ts";
import type { PolicyDefinition } from "./policy.ts";

/**
 * A value the policy sets: no control characters, and Latin-1 only. `Headers` refuses a
 * character above U+00FF (`"€"`, `"✓"`), so such a value was accepted as config and then failed
 * every request with a 500; it is a config error instead (send non-Latin-1 text encoded, e.g.
 * percent- or RFC 8187-encoded).
 */
const settableValue = headerValue.refine(
  (v) => !NON_LATIN1.test(v),
  "must hold only Latin-1 characters (U+0000-U+00FF); encode other text",
);
const NON_LATIN1 = /[\u0100-\uffff]/; // any UTF-16 code unit above U+00FF, surrogates too

/**
 * Request headers a rule may not name: hop-by-hop ones, never forwarded, and those the forwarder
 * sets itself (`OWNED`). A rule naming one was accepted and then
 * had no effect: `set: { host: "api.internal" }` left the client's Host in place, and
 * `remove: ["x-forwarded-for"]` sent it all the same.
 */
const REQUEST_RESERVED = new Set([...HOP_BY_HOP, ...OWNED]);
const REQUEST_RULE = "must not be a hop-by-hop header or one Ferry sets on every forwarded " +
  "request (host, content-length, expect, x-forwarded-for/-proto/-host, x-real-ip, " +
  "x-request-id); the upstream's `host` option sets Host";

/**
 * Response headers a rule may not name: hop-by-hop ones, which describe the gateway's own
 * connection to the client, and Content-Length, which frames the body: a value set here that
 * differed from the body cut the response short (or left bytes on a kept-alive connection).
 */
const RESPONSE_RESERVED = new Set([...HOP_BY_HOP, "content-length"]);
const RESPONSE_RULE = "must not be a hop-by-hop header (connection, keep-alive, " +
  "transfer-encoding, upgrade, ...) or content-length: Ferry frames the response itself";

function rules(reserved: ReadonlySet<string>, message: string) {
  const name = headerName.refine((n) => !reserved.has(n.toLowerCase()), message);
  return z.strictObject({
    add: z.record(name, settableValue).optional(),
    set: z.record(name, settableValue).optional(),
    remove: z.array(name).optional(),
  });
}

function apply(target: Headers, r: HeaderRules | undefined) {
  if (!r) return;
  for (const name of r.remove ?? []) target.delete(name);
  for (const [k, v] of Object.entries(r.set ?? {})) target.set(k, v);
  for (const [k, v] of Object.entries(r.add ?? {})) target.append(k, v);
}

/** Definition of the `headers` policy. */
export const headersPolicy: PolicyDefinition<"headers", HeadersOptions> = {
  kind: "headers",
  schema: z.strictObject({
    request: rules(REQUEST_RESERVED, REQUEST_RULE).optional(),
    response: rules(RESPONSE_RESERVED, RESPONSE_RULE).optional(),
  }),
  create: (options) => {
    const claims = claimsSetBy(options.request);
    return async (c, next) => {
      if (options.request) {
        const state = c.get("proxy");
        const target = editableRequestHeaders(state, c.req.raw.headers);
        if (claims.length > 0) vouchFor(state, target, claims);
        apply(target, options.request);
      }
      await next();
      if (options.response) apply(c.res.headers, options.response);
    };
  },
};

/** The peer-claim headers (`X-Forwarded-Port`, ...) `rules` sets or adds. */
function claimsSetBy(rules: HeaderRules | undefined): string[] {
  const names = [...Object.keys(rules?.set ?? {}), ...Object.keys(rules?.add ?? {})];
  return names.map((n) => n.toLowerCase()).filter((n) => PEER_CLAIMS.has(n));
}

/**
 * Peer-claim headers are forwarded only from trusted proxies; one a policy sets is the
 * operator's word (Ferry behind a TCP balancer on :443 says `X-Forwarded-Port: 443`), so it goes
 * on whoever the peer is. A client's own value of it must not ride along, appended to.
 */
function vouchFor(state: ProxyState, target: Headers, claims: readonly string[]): void {
  state.policyClaims ??= new Set();
  for (const name of claims) {
    if (!state.trustedPeer) target.delete(name);
    state.policyClaims.add(name);
  }
}
