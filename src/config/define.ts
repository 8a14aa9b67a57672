import type { FerryConfig } from "./types.ts";

/**
 * Declares a gateway config. The names of `upstreams` and `policies` are inferred as literal
 * types, so a route naming an upstream or policy that does not exist is a compile error.
 *
 * @example
 * ```ts
 * export default defineConfig({
 *   upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
 *   routes: [{ match: { path: "/*" }, upstream: "api" }],
 * });
 * ```
 */
export function defineConfig<const U extends string, const P extends string = never>(
  config: FerryConfig<U, P>,
): FerryConfig<U, P> {
  return config;
}
