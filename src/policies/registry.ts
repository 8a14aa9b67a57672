import { customPolicy } from "./custom_policy.ts";
import { faultPolicy } from "./fault_policy.ts";
import { headersPolicy } from "./headers_policy.ts";
import type { PolicyDefinition } from "./policy.ts";
import { rewritePolicy } from "./rewrite_policy.ts";

/** Every built-in policy kind, by kind. Validation and snapshot building both read this. */
// deno-lint-ignore no-explicit-any
export const policyDefinitions: ReadonlyMap<string, PolicyDefinition<string, any>> = new Map<
  string,
  // deno-lint-ignore no-explicit-any
  PolicyDefinition<string, any>
>([
  [headersPolicy.kind, headersPolicy],
  [rewritePolicy.kind, rewritePolicy],
  [customPolicy.kind, customPolicy],
  [faultPolicy.kind, faultPolicy],
]);
