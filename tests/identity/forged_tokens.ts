/**
 * Tokens the identity provider would never issue, made for the refusal tests: signed with the
 * provider's own key but with bad claims, signed with keys the provider does not publish, or
 * not properly signed at all (`alg: none`, HS256 keyed with the RSA public key, a payload
 * edited after signing).
 */
import { base64url, exportSPKI, generateKeyPair, importJWK, type JWTPayload, SignJWT } from "jose";
import type { IdpKey } from "../helpers/oidc_provider.ts";

const now = () => Math.floor(Date.now() / 1000);

/** A token shaped like the provider's, with `claims` overriding its standard ones. */
export function signWith(
  key: { privateKey: CryptoKey | Uint8Array; kid?: string; alg: string },
  base: { issuer: string; audience: string },
  claims: JWTPayload = {},
): Promise<string> {
  return new SignJWT({
    iss: base.issuer,
    aud: base.audience,
    sub: "forged-client",
    scope: "read",
    iat: now(),
    exp: now() + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, typ: "at+jwt", ...(key.kid ? { kid: key.kid } : {}) })
    .sign(key.privateKey);
}

/** `alg: none`: a header, a payload and an empty signature. */
export function unsignedToken(base: { issuer: string; audience: string }): string {
  const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
  const payload = base64url.encode(JSON.stringify({
    iss: base.issuer,
    aud: base.audience,
    sub: "forged-client",
    scope: "read",
    iat: now(),
    exp: now() + 300,
  }));
  return `${header}.${payload}.`;
}

/**
 * The HS/RS confusion attack: an HS256 token whose HMAC key is the issuer's RSA *public* key
 * (its PEM text, as a naive verifier would pass it), naming the RSA key's kid.
 */
export async function hmacWithPublicKey(
  rsa: IdpKey,
  base: { issuer: string; audience: string },
): Promise<string> {
  const publicKey = await importJWK(rsa.publicJwk, "RS256", { extractable: true });
  const pem = await exportSPKI(publicKey as CryptoKey);
  const secret = new TextEncoder().encode(pem);
  return await signWith({ privateKey: secret, kid: rsa.kid, alg: "HS256" }, base);
}

/** `token` with its payload replaced (claims edited after signing), signature kept. */
export function tampered(token: string, edit: (payload: JWTPayload) => JWTPayload): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
  return `${header}.${base64url.encode(JSON.stringify(edit(claims)))}.${signature}`;
}

/** A key the provider does not publish, with a kid of the caller's choice. */
export async function rogueKey(alg: "RS256" | "ES256", kid: string) {
  const { privateKey } = await generateKeyPair(alg);
  return { privateKey, kid, alg };
}
