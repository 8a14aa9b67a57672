/**
 * Conformance sample of `jwt`. The contract test has no identity provider, so the valid sample
 * uses static keys (`jwks`): a key pair made here, its public half in the options, and a token
 * signed with its private half. Discovery and the JWKS cache are tested against a real
 * oidc-provider in `tests/identity/`.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Sample } from "./sample.ts";

const ISSUER = "https://issuer.conformance.test";
const AUDIENCE = "conformance-api";

const { publicKey, privateKey } = await generateKeyPair("ES256");
const publicJwk = { ...await exportJWK(publicKey), kid: "conformance", alg: "ES256", use: "sig" };
const token = await new SignJWT({ scope: "read" })
  .setProtectedHeader({ alg: "ES256", kid: "conformance" })
  .setIssuer(ISSUER)
  .setAudience(AUDIENCE)
  .setSubject("conformance-user")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(privateKey);

const valid = {
  issuer: ISSUER,
  audiences: [AUDIENCE],
  jwks: { keys: [publicJwk] },
  scopes: ["read"],
  claimsToHeaders: { sub: "x-user-id" },
};

export const sample: Sample = {
  valid,
  invalid: { ...valid, audience: AUDIENCE },
  unknownKey: "audience",
  requestHeaders: { authorization: `Bearer ${token}` },
};
