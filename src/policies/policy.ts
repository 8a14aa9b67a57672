/**
 * The policy extension point. A policy is plain data in the config (a {@link PolicyDescriptor}
 * built by a typed factory such as `headers({...})`) and a definition here that validates its
 * options and builds a Hono middleware once per snapshot. Every definition runs the shared
 * conformance test in `tests/policies/policy_conformance_test.ts`.
 */
import type { MiddlewareHandler } from "hono";
import type { Registry } from "prom-client";
import type { z } from "zod";
import type { Logger } from "../observe/logger.ts";
import type { PolicyDescriptor } from "../config/types.ts";
import type { GatewayEnv } from "../proxy/state.ts";

/** What a policy may use while it is built (services of the gateway). */
export interface PolicyEnv {
  /** Reads an environment variable (secrets are referenced by name). */
  env(name: string): string | undefined;
  /** The preloaded factory of a `custom` policy module, by its specifier. */
  customModule?(specifier: string): (options: Record<string, unknown>) => PolicyMiddleware;
  /**
   * State that must outlive this snapshot (JWKS caches, counters, metrics), by key: created by
   * `create` on first use, then the same object for every route and every reload. Values with
   * a `close()` are closed when the gateway closes.
   */
  shared<T>(key: string, create: () => T): T;
  /** The gateway's Prometheus registry; create metrics through `shared` so they exist once. */
  metrics: Registry;
  /** Ferry's own log. */
  logger: Logger;
}

/**
 * A policy middleware: Hono's shape, with Ferry's per-request state in `c.var.proxy`. Built-in
 * policies read it with `c.get("proxy")`: Hono's `c.var` builds a new object on every access.
 */
export type PolicyMiddleware = MiddlewareHandler<GatewayEnv>;

/** How one policy kind is validated and built. */
export interface PolicyDefinition<K extends string = string, O = unknown> {
  readonly kind: K;
  /** Validates `options`; unknown keys are errors. */
  readonly schema: z.ZodType<O>;
  /** Builds the middleware once per snapshot from validated options. */
  create(options: O, env: PolicyEnv): PolicyMiddleware;
}

/** Builds a descriptor: what the typed factories return. */
export function descriptor<K extends string, O>(kind: K, options: O): PolicyDescriptor<K, O> {
  return { kind, options };
}
