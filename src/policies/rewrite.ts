import type { PolicyDescriptor, RewriteConfig } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/**
 * Rewrites the path sent upstream: strip a prefix, add one, or apply a regex replacement.
 * The query string is kept.
 *
 * @example
 * ```ts
 * rewrite({ stripPrefix: "/api" })                 // /api/users?x=1 → /users?x=1
 * rewrite({ regex: { pattern: "^/v1/(.*)", replacement: "/v2/$1" } })
 * ```
 */
export function rewrite(options: RewriteConfig): PolicyDescriptor<"rewrite", RewriteConfig> {
  return descriptor("rewrite", options);
}
