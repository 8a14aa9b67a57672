/**
 * The `jwt` policy's request path: find the bearer token, verify it, check required claims and
 * scopes, then tell the upstream who the caller is (claim headers, `c.var.proxy.subject`) and
 * optionally drop the token. Refusals follow RFC 6750 §3: a bare `Bearer realm` challenge when
 * no token was sent, `invalid_token` (401) when it is bad, `insufficient_scope` (403) when it
 * lacks scopes; all problem+json through `refuse`.
 */
import type { PolicyMiddleware } from "../policies/policy.ts";
import { editableRequestHeaders, type ProxyState } from "../proxy/state.ts";
import { type AuthFailures, refuse } from "./auth_failure.ts";
import { withoutCookie } from "../proxy/cookies.ts";
import { findToken, type TokenSources, withoutQueryParam } from "./bearer_token.ts";
import { claimAt, claimHeaderValue, grantedScopes } from "./jwt_claims.ts";
import {
  type JwtChecks,
  JwtRejected,
  type KeySource,
  rememberedPayload,
  verifyJwt,
} from "./jwt_verifier.ts";
import type { VerifiedTokens } from "./verified_tokens.ts";
import { VouchedHeaders } from "./vouched_headers.ts";

export interface JwtGuardSettings {
  checks: JwtChecks;
  keys: KeySource;
  requiredClaims: readonly string[];
  scopes: readonly string[];
  /** Claim path → lower-case header name. */
  claimsToHeaders: readonly (readonly [string, string])[];
  forwardToken: boolean;
  tokenFrom: TokenSources;
  /** Tokens already verified with these checks and keys (skips repeated signature checks). */
  verified?: VerifiedTokens;
}

const POLICY = "jwt";
const REALM = "ferry";

export function jwtGuard(settings: JwtGuardSettings, failures: AuthFailures): PolicyMiddleware {
  const {
    checks,
    keys,
    requiredClaims,
    scopes,
    claimsToHeaders,
    forwardToken,
    tokenFrom,
    verified,
  } = settings;
  const editsHeaders = claimsToHeaders.length > 0 || !forwardToken;
  // A client must never supply these itself, under any spelling (`x_user_id` too).
  const vouched = new VouchedHeaders(claimsToHeaders.map(([, header]) => header));
  const invalid = (state: ProxyState, reason: string, detail: string) =>
    refuse(failures, POLICY, state, {
      status: 401,
      reason,
      detail,
      challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="${
        quotable(detail)
      }"`,
    });

  return async (c, next) => {
    const state = c.get("proxy");
    // As earlier policies left them (one may have set or normalised the token).
    const incoming = state.requestHeaders ?? c.req.raw.headers;
    const query = tokenFrom.query === undefined ? "" : queryOf(c.req.url);
    const found = findToken(incoming, query, tokenFrom);
    if (found === undefined) {
      // RFC 6750 §3.1: a request without credentials gets no error code, only the challenge.
      return refuse(failures, POLICY, state, {
        status: 401,
        reason: "missing_token",
        detail: "this route needs a bearer token",
        challenge: `Bearer realm="${REALM}"`,
      });
    }
    if ("malformed" in found) return invalid(state, "malformed", found.malformed);

    let payload = verified && rememberedPayload(found.token, keys, checks, verified);
    if (!payload) {
      try {
        payload = await verifyJwt(found.token, keys, checks, verified);
      } catch (e) {
        if (e instanceof JwtRejected) return invalid(state, e.reason, e.detail);
        throw e;
      }
    }
    for (const claim of requiredClaims) {
      const value = claimAt(payload, claim);
      if (value === undefined || value === null) {
        return invalid(state, "missing_claim", `the token has no '${claim}' claim`);
      }
    }
    if (scopes.length > 0) {
      const granted = grantedScopes(payload);
      const missing = scopes.filter((scope) => !granted.has(scope));
      if (missing.length > 0) {
        const detail = `the token lacks scopes this route needs: ${missing.join(" ")}`;
        return refuse(failures, POLICY, state, {
          status: 403,
          reason: "insufficient_scope",
          detail,
          challenge: `Bearer realm="${REALM}", error="insufficient_scope", scope="${
            scopes.join(" ")
          }", error_description="${quotable(detail)}"`,
        });
      }
    }

    if (typeof payload.sub === "string") state.subject = payload.sub;
    // Verified claims, for canary rules and sticky splits on a claim.
    state.claims = payload;
    if (editsHeaders) {
      const outgoing = editableRequestHeaders(state, incoming);
      // Always removed, present claim or not.
      vouched.removeFrom(outgoing);
      for (const [claim, header] of claimsToHeaders) {
        const value = claimHeaderValue(claimAt(payload, claim));
        if (value !== undefined) outgoing.set(header, value);
      }
      if (!forwardToken) {
        outgoing.delete("authorization");
        if (tokenFrom.cookie !== undefined) {
          const cookie = outgoing.get("cookie");
          const rest = cookie === null ? undefined : withoutCookie(cookie, tokenFrom.cookie);
          if (rest === undefined) outgoing.delete("cookie");
          else outgoing.set("cookie", rest);
        }
        if (tokenFrom.query !== undefined) {
          state.upstreamPath = withoutQueryParam(state.upstreamPath, tokenFrom.query);
        }
      }
    }
    await next();
  };
}

function queryOf(url: string): string {
  const mark = url.indexOf("?");
  if (mark < 0) return "";
  const hash = url.indexOf("#", mark);
  return hash < 0 ? url.slice(mark + 1) : url.slice(mark + 1, hash);
}

/** RFC 6750 §3: error_description and scope allow no `"` or `\`. */
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, "?");
}
