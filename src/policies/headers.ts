/** The `headers` policy's factory (config side: plain data, no dependencies). */
import type { HeaderRules, PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** Options of {@link headers}: edits to the forwarded request and to the response. */
export interface HeadersOptions {
  request?: HeaderRules;
  response?: HeaderRules;
}

/**
 * Adds, sets and removes headers on the request sent upstream and on the response.
 *
 * @example
 * ```ts
 * headers({ request: { set: { "x-tenant": "acme" } }, response: { remove: ["server"] } })
 * ```
 */
export function headers(options: HeadersOptions): PolicyDescriptor<"headers", HeadersOptions> {
  return descriptor("headers", options);
}
