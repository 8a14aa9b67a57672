/**
 * A verified-usable set of public signing keys, built from a JWKS document. Only keys that can
 * verify signatures are kept (asymmetric, public, `use` absent or `sig`): encryption keys and
 * anything carrying private members are dropped, so a JWKS that mistakenly publishes a private
 * key never gets it imported. Key matching by `kid`/`alg`/`crv` and the import cache are jose's
 * (`createLocalJWKSet`); a set is immutable and replaced whole on refresh.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";

/** Private-key members of RFC 7518 §6: a verifier must never hold them. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const SIGNING_KTY = new Set(["RSA", "EC", "OKP"]);

export class InvalidKeySetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidKeySetError";
  }
}

/** Public signing keys, ready for `jwtVerify`. */
export interface KeySet {
  /** jose's key resolver over these keys (caches imported CryptoKeys). */
  readonly resolve: JWTVerifyGetKey;
  /** The `kid`s present, for logs. */
  readonly kids: readonly string[];
  /** Canonical text of the kept keys: equal fingerprints mean the same keys. */
  readonly fingerprint: string;
  /** The kept keys, as published. */
  readonly keys: readonly JWK[];
}

/** Builds a key set from a parsed JWKS document; throws {@link InvalidKeySetError}. */
export function keySetFrom(doc: unknown): KeySet {
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as JSONWebKeySet).keys)) {
    throw new InvalidKeySetError('not a JWK Set: expected an object with a "keys" list');
  }
  const keys = (doc as JSONWebKeySet).keys.filter(isPublicSigningKey);
  if (keys.length === 0) {
    throw new InvalidKeySetError("the JWK Set has no public signing keys");
  }
  let resolve: JWTVerifyGetKey;
  try {
    resolve = createLocalJWKSet({ keys });
  } catch (e) {
    throw new InvalidKeySetError(`malformed JWK Set: ${(e as Error).message}`);
  }
  return {
    resolve,
    kids: keys.flatMap((k) => typeof k.kid === "string" ? [k.kid] : []),
    fingerprint: JSON.stringify(keys),
    keys,
  };
}

/**
 * The keys of `newer` that `older` does not hold: after a rotation, the only keys a token that
 * no key of `older` verified can still have been signed by. `undefined` when there are none.
 */
export function keysAddedSince(newer: KeySet, older: KeySet): KeySet | undefined {
  const known = new Set(older.keys.map((key) => JSON.stringify(key)));
  const added = newer.keys.filter((key) => !known.has(JSON.stringify(key)));
  return added.length === 0 ? undefined : keySetFrom({ keys: added });
}

/** Parses JWKS text (a fetched document); throws {@link InvalidKeySetError}. */
export function keySetFromText(text: string): KeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InvalidKeySetError("the JWK Set is not JSON");
  }
  return keySetFrom(doc);
}

function isPublicSigningKey(jwk: unknown): jwk is JWK {
  if (typeof jwk !== "object" || jwk === null) return false;
  const key = jwk as Record<string, unknown>;
  if (typeof key.kty !== "string" || !SIGNING_KTY.has(key.kty)) return false;
  if (key.use !== undefined && key.use !== "sig") return false;
  return PRIVATE_MEMBERS.every((member) => !(member in key));
}
