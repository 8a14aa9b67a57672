/**
 * OIDC discovery (OpenID Connect Discovery 1.0 §4): where an issuer publishes its keys. Only
 * `jwks_uri` is read. The document's `issuer` must equal the configured one exactly (§4.3),
 * otherwise a misconfigured or hostile document could point a route at someone else's keys.
 */
import { boundedGet, IdpFetchError } from "./bounded_fetch.ts";

/** `<issuer>/.well-known/openid-configuration`, keeping any path of the issuer. */
export function discoveryUrl(issuer: string): URL {
  return new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
}

/** Fetches the discovery document of `issuer` and returns its `jwks_uri`. */
export async function discoverJwksUri(
  issuer: string,
  init: { timeoutMs: number; cancel: AbortSignal },
): Promise<URL> {
  const url = discoveryUrl(issuer);
  const { text } = await boundedGet(url, init);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new IdpFetchError("invalid", `${url} is not JSON`);
  }
  if (typeof doc !== "object" || doc === null) {
    throw new IdpFetchError("invalid", `${url} is not a JSON object`);
  }
  const { issuer: published, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (published !== issuer) {
    throw new IdpFetchError(
      "invalid",
      `${url} names issuer ${JSON.stringify(published)}, not ${JSON.stringify(issuer)}`,
    );
  }
  if (typeof jwksUri !== "string" || !URL.canParse(jwksUri)) {
    throw new IdpFetchError("invalid", `${url} has no valid jwks_uri`);
  }
  const parsed = new URL(jwksUri);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new IdpFetchError("invalid", `${url} has a jwks_uri that is not http(s)`);
  }
  return parsed;
}
