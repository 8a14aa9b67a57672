/**
 * Verifies a JWT with jose against the keys of a {@link KeySource}, and turns every way it can
 * fail into a bounded reason and a detail that is safe to show (never the token, never a claim
 * value the client chose). The algorithm allow-list is checked before any key is looked up, so
 * `alg: none` and HS/RS confusion are refused without touching a key, and a token with an
 * unknown `kid`, or without `kid` and verified by no key, asks the source for newer keys
 * (rotation) once before it is refused. A token the route already verified against the current
 * keys is taken from its memo instead.
 */
import {
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import { JwksUnavailableError } from "./jwks_cache.ts";
import { keysAddedSince, type KeySet } from "./jwks_key_set.ts";
import type { VerifiedTokens } from "./verified_tokens.ts";

/** Why a token was refused (the `reason` label of `ferry_auth_failures_total`). */
export type JwtReason =
  | "malformed"
  | "expired"
  | "not_yet_valid"
  | "bad_issuer"
  | "bad_audience"
  | "bad_signature"
  | "unknown_kid"
  | "alg_not_allowed"
  | "missing_claim"
  | "jwks_unavailable";

export class JwtRejected extends Error {
  constructor(readonly reason: JwtReason, readonly detail: string) {
    super(detail);
    this.name = "JwtRejected";
  }
}

/** Where verification keys come from: the shared JWKS cache, or static keys. */
export interface KeySource {
  /** Current keys; throws `JwksUnavailableError` when there are none to use. */
  keys(): Promise<KeySet>;
  /** Newer keys than `seen` after a token named an unknown key, if there are any. */
  keysAfterUnknownKid(seen: KeySet): Promise<KeySet | undefined>;
  /** The keys in use right now when they need no fetch, else `undefined`; never waits. */
  usableKeys(): KeySet | undefined;
}

/** Static keys from the config: nothing to refresh. */
export function staticKeys(keys: KeySet): KeySource {
  return {
    keys: () => Promise.resolve(keys),
    keysAfterUnknownKid: () => Promise.resolve(undefined),
    usableKeys: () => keys,
  };
}

export interface JwtChecks {
  issuer: string;
  audiences: readonly string[];
  algorithms: readonly string[];
  clockToleranceSeconds: number;
}

/**
 * The payload of a token `memo` already verified against the keys in use now, without waiting
 * for anything: `undefined` when it is not remembered, has expired, or the keys need a fetch.
 * The common case (a client sending the same token again) then costs no promise at all.
 */
export function rememberedPayload(
  token: string,
  source: KeySource,
  checks: JwtChecks,
  memo: VerifiedTokens,
): JWTPayload | undefined {
  const current = source.usableKeys();
  if (current === undefined) return undefined;
  return memo.get(token, current, Math.floor(Date.now() / 1000), checks.clockToleranceSeconds);
}

/**
 * Verifies `token`; returns its payload or throws {@link JwtRejected}. With `memo`, a token
 * this route already verified against the current keys skips the signature check.
 */
export async function verifyJwt(
  token: string,
  source: KeySource,
  checks: JwtChecks,
  memo?: VerifiedTokens,
): Promise<JWTPayload> {
  let current: KeySet;
  try {
    current = await source.keys();
  } catch (e) {
    if (e instanceof JwksUnavailableError) throw new JwtRejected("jwks_unavailable", e.message);
    throw e;
  }
  const known = memo?.get(
    token,
    current,
    Math.floor(Date.now() / 1000),
    checks.clockToleranceSeconds,
  );
  if (known) return known;
  // Before any key is looked up: `none` and HS/RS confusion never reach a key.
  let alg: unknown, kid: unknown;
  try {
    ({ alg, kid } = decodeProtectedHeader(token));
  } catch {
    throw rejected("malformed");
  }
  if (typeof alg !== "string" || !checks.algorithms.includes(alg)) {
    throw new JwtRejected(
      "alg_not_allowed",
      `the token's signature algorithm is not accepted here (accepted: ${
        checks.algorithms.join(", ")
      })`,
    );
  }
  const options: JWTVerifyOptions = {
    issuer: checks.issuer,
    audience: [...checks.audiences],
    algorithms: [...checks.algorithms],
    clockTolerance: checks.clockToleranceSeconds,
    // A token that never expires stays valid forever once leaked: refuse it.
    requiredClaims: ["exp"],
  };
  const resolve: JWTVerifyGetKey = async (header, jws) => {
    try {
      return await current.resolve(header, jws);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      // Perhaps the issuer rotated its keys: look once more with newer ones, if any.
      const newer = await source.keysAfterUnknownKid(current);
      if (!newer) throw e;
      current = newer;
      return await current.resolve(header, jws);
    }
  };
  let payload: JWTPayload;
  try {
    payload = await verifyWith(token, resolve, options);
  } catch (e) {
    if (kid !== undefined || !(e instanceof JwtRejected) || e.reason !== "bad_signature") throw e;
    ({ payload, keys: current } = await verifyWithAddedKeys(token, source, current, options, e));
  }
  assertIssuedInThePast(payload, checks.clockToleranceSeconds);
  // `current` is the set that verified it (newer keys, after a rotation).
  memo?.remember(token, payload, current);
  return payload;
}

/**
 * `clockTolerance` is documented as leeway for `iat` too, but jose only looks at `iat` when a
 * maximum token age is set (which would also make `iat` mandatory). A token issued later than
 * now plus the tolerance comes from an issuer whose clock is off, or was minted ahead of time
 * for later use: refused like an early `nbf`. Compared as jose compares `nbf` (whole seconds).
 */
function assertIssuedInThePast(payload: JWTPayload, toleranceSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat === "number" && payload.iat > now + toleranceSeconds) {
    throw rejected("not_yet_valid");
  }
}

/**
 * A token without `kid` has no kid to be unknown: when no key of `current` verified it
 * (`refusal`), it may be signed by a key the issuer rotated in since. Newer keys are asked for
 * as for an unknown kid (the same cooldown, so a flood of forged kid-less tokens cannot storm
 * the provider), and only the keys they add are tried: the others already failed. Returns the
 * payload with the key set that verified it, or throws `refusal`.
 */
async function verifyWithAddedKeys(
  token: string,
  source: KeySource,
  current: KeySet,
  options: JWTVerifyOptions,
  refusal: JwtRejected,
): Promise<{ payload: JWTPayload; keys: KeySet }> {
  const newer = await source.keysAfterUnknownKid(current);
  const added = newer ? keysAddedSince(newer, current) : undefined;
  if (!newer || !added) throw refusal;
  try {
    return { payload: await verifyWith(token, added.resolve, options), keys: newer };
  } catch (e) {
    // No added key is of the token's algorithm: still a signature that no key verifies.
    throw e instanceof JwtRejected && e.reason === "unknown_kid" ? refusal : e;
  }
}

/** Verifies `token` with the key `getKey` picks, or each candidate when several fit. */
async function verifyWith(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, getKey, options)).payload;
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw toRejection(e);
    return await tryEach(token, e, options);
  }
}

/**
 * Several keys fit a token without `kid`: the one whose signature verifies wins. A candidate
 * jose imports but will not verify with (say, an RSA modulus under 2048 bits) is passed over
 * like one whose signature fails: it is that key's fault, and a later key may be the signer.
 * Anything else (a bad claim once a signature verified, a malformed token) ends the search.
 */
async function tryEach(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for await (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (e) {
      if (!isThisKeysFault(e)) throw toRejection(e);
    }
  }
  throw rejected("bad_signature");
}

/** jose's answers that say "not this key": a failed signature, or a key it cannot use. */
function isThisKeysFault(e: unknown): boolean {
  return e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKInvalid ||
    e instanceof TypeError;
}

const DETAILS: Record<Exclude<JwtReason, "alg_not_allowed" | "missing_claim">, string> = {
  malformed: "the token is not a well-formed signed JWT",
  expired: "the token has expired",
  not_yet_valid: "the token is not valid yet",
  bad_issuer: "the token was not issued by the issuer this route trusts",
  bad_audience: "the token is not meant for this API (audience mismatch)",
  bad_signature: "the token's signature is invalid",
  unknown_kid: "the token was signed with a key its issuer does not publish",
  jwks_unavailable: "the issuer's signing keys are unavailable",
};

function rejected(reason: keyof typeof DETAILS): JwtRejected {
  return new JwtRejected(reason, DETAILS[reason]);
}

/** Maps what jose threw to a reason; errors that are not about the token are rethrown. */
function toRejection(e: unknown): Error {
  if (e instanceof JwtRejected) return e;
  if (e instanceof errors.JWTExpired) return rejected("expired");
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === "missing") {
      return new JwtRejected("missing_claim", `the token has no '${e.claim}' claim`);
    }
    if (e.reason !== "check_failed") return rejected("malformed"); // e.g. `exp` not a number
    switch (e.claim) {
      case "iss":
        return rejected("bad_issuer");
      case "aud":
        return rejected("bad_audience");
      case "nbf":
      case "iat":
        return rejected("not_yet_valid");
    }
    return rejected("malformed");
  }
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return new JwtRejected("alg_not_allowed", "the token's signature algorithm is not accepted");
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return rejected("bad_signature");
  if (e instanceof errors.JWKSNoMatchingKey) return rejected("unknown_kid");
  // A published key jose cannot import or use for this token (say, a too-short RSA modulus).
  if (e instanceof errors.JWKInvalid || e instanceof TypeError) return rejected("bad_signature");
  if (e instanceof errors.JOSEError) return rejected("malformed");
  return e instanceof Error ? e : new Error(String(e));
}
