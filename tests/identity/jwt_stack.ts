/**
 * The stack the `jwt` integration tests run: a real oidc-provider, a gateway whose routes use
 * `jwt` against it, and an echo upstream that reports what it received. Everything listens on
 * 127.0.0.1 ephemeral ports and is stopped by `close()`.
 */
import { startEchoUpstream, startTestGateway, type TestUpstream } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";
import { startOidcProvider, type TestOidcProvider } from "../helpers/oidc_provider.ts";
import type { GatewayHandle } from "../../src/server/gateway.ts";
import type { MemoryLogger } from "../../src/observe/logger.ts";

export interface JwtRoute {
  name: string;
  /** Path prefix, such as `/rs` (matched as `/rs/*`). */
  prefix: string;
  options: Record<string, unknown>;
}

export interface JwtStack {
  idp: TestOidcProvider;
  gw: GatewayHandle & { logger: MemoryLogger };
  upstream: TestUpstream;
  /** GET `path` on the gateway with an optional bearer token and extra headers. */
  call(path: string, token?: string, headers?: Record<string, string>): Promise<Response>;
  /** A metric's value on the admin `/metrics`, 0 when absent. */
  metric(series: string): Promise<number>;
  close(): Promise<void>;
}

export function gatewayConfig(
  upstreamUrl: string,
  routes: JwtRoute[],
  extra: Record<string, unknown> = {},
) {
  return {
    ...extra,
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: routes.map((r) => ({
      name: r.name,
      match: { path: `${r.prefix}/*` },
      upstream: "api",
      use: [{ kind: "jwt", options: r.options }],
    })),
  };
}

/** Starts the provider, then a gateway with `routes(idp)`. */
export async function startJwtStack(
  routes: (idp: TestOidcProvider) => JwtRoute[],
  extra: Record<string, unknown> = {},
): Promise<JwtStack> {
  const idp = await startOidcProvider();
  const upstream = startEchoUpstream();
  let gw: JwtStack["gw"];
  try {
    gw = await startTestGateway(gatewayConfig(upstream.url, routes(idp), extra));
  } catch (e) {
    await upstream.close();
    await idp.stop();
    throw e;
  }
  return {
    idp,
    gw,
    upstream,
    call: (path, token, headers = {}) =>
      fetch(`${gw.url}${path}`, {
        headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` },
      }),
    async metric(series) {
      return (await scrapeMetrics(gw.adminUrl!)).get(series) ?? 0;
    },
    async close() {
      await gw.close();
      await upstream.close();
      await idp.stop();
    },
  };
}

/** What the echo upstream reports about the request it received. */
export interface Echo {
  path: string;
  query: string;
  headers: Record<string, string>;
}
