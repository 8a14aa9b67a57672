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
  AdminConfig,
  BalancerConfig,
  DemoConfig,
  Duration,
  FerryConfig,
  HashKeyConfig,
  HeaderMatch,
  HeaderRules,
  LimitsConfig,
  ListenConfig,
  MatchConfig,
  PolicyDescriptor,
  PoolConfig,
  RedirectConfig,
  RewriteConfig,
  RouteConfig,
  TargetConfig,
  TrustConfig,
  UpstreamConfig,
  UpstreamTimeouts,
} from "./src/config/types.ts";
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
/** Policy middleware shape, for custom policies. */
export type { PolicyMiddleware } from "./src/policies/policy.ts";
/** Per-request state a policy reads and edits (`c.var.proxy`). */
export type { GatewayEnv, ProxyState } from "./src/proxy/state.ts";
/** Start a serving gateway, or build one in-process for route tests. */
export {
  createGateway,
  type Gateway,
  type GatewayHandle,
  type GatewayOptions,
  startGateway,
} from "./src/server/gateway.ts";
/** The answer of `explain`: which route takes a request, and why earlier ones did not. */
export type { Explanation, RouteVerdict } from "./src/routing/explain.ts";
/** Runs the CLI with the given arguments; resolves to the exit code. */
export { main } from "./src/cli/main.ts";

import { main as runCli } from "./src/cli/main.ts";

if (import.meta.main) {
  runCli(Deno.args).then((code) => Deno.exit(code));
}
