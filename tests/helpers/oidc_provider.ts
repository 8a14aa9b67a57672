/**
 * A real OpenID Connect provider (npm `oidc-provider`) on 127.0.0.1, for the identity tests.
 * It serves discovery and a JWKS, and issues JWT access tokens by the client-credentials grant
 * for two resource servers (resource indicators, RFC 8707): one signed RS256, one ES256.
 *
 * The tests own the provider's signing keys (generated here, handed to the provider), so they
 * can also sign tokens the provider would never issue: expired, for another audience, and so
 * on, all with a key the gateway trusts. Keys rotate by swapping in a provider instance with
 * new keys behind the same listener (same issuer, same port), and every request is counted by
 * path, so tests can assert how often the gateway fetched the JWKS.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { exportJWK, generateKeyPair, type JWK } from "jose";

/** A signing key of the provider: the private half for tests, the kid it publishes. */
export interface IdpKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TestOidcProvider {
  readonly issuer: string;
  /** Audience (resource indicator) whose tokens are signed RS256. */
  readonly rsAudience: string;
  /** Audience whose tokens are signed ES256. */
  readonly esAudience: string;
  /** The keys currently published. */
  readonly keys: { rsa: IdpKey; ec: IdpKey };
  /** Requests received for `path` (such as `/jwks`) since start. */
  hits(path: string): number;
  /** An access token by client credentials. */
  token(options?: { scope?: string; audience?: string }): Promise<string>;
  /** Publishes new keys (new kids) in place of the current ones, on the same issuer. */
  rotateKeys(): Promise<void>;
  /** Stops listening and drops open connections: the provider is down. Idempotent. */
  stop(): Promise<void>;
}

const CLIENT_ID = "ferry-tests";
const CLIENT_SECRET = "ferry-tests-secret-ferry-tests-secret";
/** Claims every access token carries besides the standard ones. */
export const EXTRA_CLAIMS = { tenant: "acme", org: { id: "org-7", name: "Acme Südwest" } };

let generation = 0;

async function makeKey(alg: "RS256" | "ES256"): Promise<IdpKey & { privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${++generation}`;
  const privateJwk = { ...await exportJWK(privateKey), kid, alg, use: "sig" };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  return { kid, alg, privateKey, publicJwk, privateJwk };
}

/** Starts a provider on an ephemeral port. Call `stop()` in `finally`. */
export async function startOidcProvider(): Promise<TestOidcProvider> {
  const counts = new Map<string, number>();
  let handle: ReturnType<Provider["callback"]> | undefined;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    handle!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rsAudience = "https://rs256.api.ferry.test";
  const esAudience = "https://es256.api.ferry.test";

  let keys: { rsa: IdpKey; ec: IdpKey };
  const install = async () => {
    const rsa = await makeKey("RS256");
    const ec = await makeKey("ES256");
    const provider = new Provider(issuer, {
      clients: [{
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
        scope: "read write admin",
      }],
      jwks: { keys: [rsa.privateJwk, ec.privateJwk] },
      scopes: ["read", "write", "admin"],
      ttl: { ClientCredentials: 300 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => rsAudience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            if (resource !== rsAudience && resource !== esAudience) {
              throw new Error(`unknown resource ${resource}`);
            }
            return {
              scope: "read write admin",
              audience: resource,
              accessTokenTTL: 300,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: resource === rsAudience ? "RS256" : "ES256" } },
            };
          },
        },
      },
      extraTokenClaims: () => EXTRA_CLAIMS,
    });
    handle = provider.callback();
    keys = { rsa: strip(rsa), ec: strip(ec) };
  };
  await install();

  let stopped: Promise<void> | undefined;
  return {
    issuer,
    rsAudience,
    esAudience,
    get keys() {
      return keys;
    },
    hits: (path) => counts.get(path) ?? 0,
    async token({ scope = "read", audience = rsAudience } = {}) {
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}`,
        },
        body: new URLSearchParams({ grant_type: "client_credentials", scope, resource: audience }),
      });
      const body = await res.json();
      if (res.status !== 200) {
        throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      }
      return body.access_token as string;
    },
    rotateKeys: install,
    stop() {
      return stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function strip(key: IdpKey & { privateJwk: JWK }): IdpKey {
  const { privateJwk: _, ...rest } = key;
  return rest;
}
