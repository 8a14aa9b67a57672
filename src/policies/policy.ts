/**
 * The policy extension point. A policy is plain data in the config (a {@link PolicyDescriptor}
 * built by a typed factory such as `headers({...})`) and a definition here that validates its
 * options and builds a Hono middleware once per snapshot. Every definition runs the shared
 * conformance test in `tests/policies/policy_conformance_test.ts`.
 */
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { PolicyDescriptor } from "../config/types.ts";
import type { GatewayEnv } from "../proxy/state.ts";

/** What a policy may use while it is built (shared services of the snapshot). */
export interface PolicyEnv {
  /** Reads an environment variable (secrets are referenced by name). */
  env(name: string): string | undefined;
  /** The preloaded factory of a `custom` policy module, by its specifier. */
  customModule?(specifier: string): (options: Record<string, unknown>) => PolicyMiddleware;
}

/** A policy middleware: Hono's shape, with Ferry's per-request state in `c.var.proxy`. */
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
