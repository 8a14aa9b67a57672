/**
 * The escape hatch: a policy written as a TypeScript module. The module's default export is a
 * Hono-style middleware factory, `(options) => (c, next) => ...`, so users are never limited
 * to what Ferry foresaw. The config stays plain data: it names the module, it does not hold it.
 */
import type { PolicyDescriptor } from "../config/types.ts";
import { descriptor, type PolicyMiddleware } from "./policy.ts";

/** Options of {@link custom}. */
export interface CustomPolicyOptions {
  /** Path of the module, relative to the config file (or the working folder for inline configs). */
  module: string;
  /** JSON-like options passed to the module's factory. */
  options?: Record<string, unknown>;
}

/** What a custom policy module exports by default. */
export type CustomPolicyFactory = (options: Record<string, unknown>) => PolicyMiddleware;

/**
 * A policy implemented by your own module.
 *
 * @example
 * ```ts
 * // policies/tenant.ts
 * export default (options) => async (c, next) => {
 *   c.var.proxy.requestHeaders ??= new Headers(c.req.raw.headers);
 *   c.var.proxy.requestHeaders.set("x-tenant", options.tenant);
 *   await next();
 * };
 * // routes.config.ts
 * use: [custom({ module: "./policies/tenant.ts", options: { tenant: "acme" } })]
 * ```
 */
export function custom(
  options: CustomPolicyOptions,
): PolicyDescriptor<"custom", CustomPolicyOptions> {
  return descriptor("custom", options);
}
