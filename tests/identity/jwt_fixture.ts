/**
 * A gateway guarding everything with `jwt`, in front of an echo upstream, for tests that sign
 * their own tokens (static keys or their own JWKS server) rather than run an OIDC provider.
 */
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The issuer and audience the gateway of `withJwtGateway` expects. */
export const ISSUER = "https://idp.ferry.test";
export const AUDIENCE = "orders";

/**
 * Runs `fn` with the URL of a gateway whose one route, "guarded", sends every request through
 * `jwt` with `options` (the key source, algorithms, ...; issuer and audience are `ISSUER` and
 * `AUDIENCE`) to an echo upstream. The admin server is off. Everything is stopped after `fn`.
 */
export async function withJwtGateway<T>(
  options: Record<string, unknown>,
  fn: (gatewayUrl: string) => Promise<T>,
): Promise<T> {
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "guarded",
        upstream: "api",
        use: [{ kind: "jwt", options: { issuer: ISSUER, audiences: [AUDIENCE], ...options } }],
      }],
    }, { admin: false });
    try {
      return await fn(gw.url);
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
  }
}
