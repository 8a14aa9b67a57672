/**
 * Ferry: a Deno-first API gateway whose routes, upstreams and policies are typed TypeScript.
 *
 * Import from here in `routes.config.ts`; run this module to get the CLI
 * (`deno run ... mod.ts start --config routes.config.ts`).
 *
 * @module
 */

// No top-level await in this module: config files import it, and the CLI imports the config
// while this module is the entry point. Awaiting here would deadlock that cycle.

/** Declares a config with compile-time checked upstream and policy names. */
export { defineConfig } from "./src/config/define.ts";
/** The config model: every shape `defineConfig` accepts. */
export type {
  AccessLogConfig,
  AccessLogField,
  AdminConfig,
  BalancerConfig,
  CanaryRule,
  CanaryWhen,
  CircuitBreakerConfig,
  ColorConfig,
  ColoringConfig,
  DemoConfig,
  Duration,
  FerryConfig,
  HashKeyConfig,
  HeaderMatch,
  HeaderRules,
  HealthCheckConfig,
  LimitsConfig,
  ListenConfig,
  MatchConfig,
  MirrorConfig,
  MirrorDiffConfig,
  OutlierDetectionConfig,
  PolicyDescriptor,
  PoolConfig,
  RedirectConfig,
  RetryConfig,
  RetryOn,
  RewriteConfig,
  RouteConfig,
  SplitConfig,
  SplitTargetConfig,
  StatusMatch,
  StickyKeyConfig,
  TargetConfig,
  TrustConfig,
  UpstreamConfig,
  UpstreamTimeouts,
} from "./src/config/types.ts";
/** What `explain` says about a route's split / canary decision. */
export type { CanaryStep, SplitStep, TrafficExplanation } from "./src/traffic/explain_traffic.ts";
/** A validated config with every default filled in, and validation issues. */
export type { ConfigIssue, NormalizedConfig } from "./src/config/normalized.ts";
/** Thrown by `startGateway`/`createGateway` for an invalid config; lists every issue. */
export { ConfigError } from "./src/config/config_error.ts";
/** The `headers` policy: add, set and remove request and response headers. */
export { headers, type HeadersOptions } from "./src/policies/headers.ts";
/** The `rewrite` policy: strip or add a path prefix, or rewrite the path by regex. */
export { rewrite } from "./src/policies/rewrite.ts";
/** The `custom` policy: your own module exporting a Hono-style middleware factory. */
export {
  custom,
  type CustomPolicyFactory,
  type CustomPolicyOptions,
} from "./src/policies/custom.ts";
/** The `fault` policy: abort and/or delay an exact share of requests, to test resilience. */
export {
  fault,
  type FaultAbort,
  type FaultCondition,
  type FaultDelay,
  type FaultOptions,
  type FaultPolicyOptions,
} from "./src/policies/fault.ts";
/** The `jwt` policy: JWT access tokens from an OIDC/JWKS issuer, with a shared, resilient key cache. */
export {
  type JwksCacheOptions,
  jwt,
  type JwtAlgorithm,
  type JwtOptions,
  type JwtTokenSource,
  type PublicJwk,
} from "./src/policies/jwt.ts";
/** The `apiKey` policy: an API key in a header or query, hashed in the config or read from env. */
export {
  apiKey,
  type ApiKeyEntry,
  type ApiKeyOptions,
  type ApiKeyPolicyOptions,
  type ApiKeySource,
} from "./src/policies/api_key.ts";
/** The `basicAuth` policy: HTTP Basic checked against scrypt password hashes. */
export {
  basicAuth,
  type BasicAuthOptions,
  type BasicAuthPolicyOptions,
  type BasicAuthSource,
  type BasicAuthUser,
} from "./src/policies/basic_auth.ts";
/** The `ipFilter` policy: allow/deny client addresses by CIDR, honouring `trust.proxies`. */
export {
  ipFilter,
  type IpFilterOptions,
  type IpFilterPolicyOptions,
} from "./src/policies/ip_filter.ts";
/** The `forwardAuth` policy: ask an external auth service (Traefik ForwardAuth, nginx auth_request). */
export {
  forwardAuth,
  type ForwardAuthMethod,
  type ForwardAuthOptions,
} from "./src/policies/forward_auth.ts";
/** Policy middleware shape, for custom policies. */
export type { PolicyMiddleware } from "./src/policies/policy.ts";
/** Per-request state a policy reads and edits (`c.var.proxy`). */
export type { GatewayEnv, ProxyState } from "./src/proxy/state.ts";
// The server and the CLI are loaded on first use, not here: a config file imports this module,
// and every hot reload evaluates that config in a fresh Worker. Keeping this module's static
// graph to the config model and the policy factories keeps reloads fast and their memory small.
import type { CliIO } from "./src/cli/main.ts";
import type { ClientInfo, Gateway, GatewayHandle, GatewayOptions } from "./src/server/gateway.ts";

/** A serving gateway, an in-process gateway, their options, and who sent an in-process request. */
export type { ClientInfo, Gateway, GatewayHandle, GatewayOptions };

/**
 * Builds a gateway without listening: `fetch` runs the full request path. Use it to test routes
 * in `deno test`. Rejects with {@link ConfigError} when the config is invalid.
 *
 * Requests come from `127.0.0.1` unless `fetch`'s second argument names a `remoteAddr`; no demo
 * upstream is started. `close()` lets requests in flight finish (within the drain timeout) and
 * refuses later ones, as the listener does.
 *
 * @example
 * ```ts
 * const gw = await createGateway(config);
 * const res = await gw.fetch(new Request("http://localhost/api/users"));
 * await gw.close();
 * ```
 */
export async function createGateway(
  config: unknown,
  options?: GatewayOptions,
): Promise<Gateway> {
  const server = await import("./src/server/gateway.ts");
  return await server.createGateway(config, options);
}

/** Validates `config`, then serves it. Rejects with {@link ConfigError} when it is invalid. */
export async function startGateway(
  config: unknown,
  options?: GatewayOptions,
): Promise<GatewayHandle> {
  const server = await import("./src/server/gateway.ts");
  return await server.startGateway(config, options);
}

/** The answer of `explain`: which route takes a request, and why earlier ones did not. */
export type { Explanation, RouteVerdict } from "./src/routing/explain.ts";
/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: readonly string[], io?: CliIO): Promise<number> {
  const cli = await import("./src/cli/main.ts");
  return await cli.main(argv, io);
}

if (import.meta.main) {
  main(Deno.args).then((code) => Deno.exit(code));
}
