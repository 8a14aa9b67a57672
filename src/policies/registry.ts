import { customPolicy } from "./custom.ts";
import { headersPolicy } from "./headers.ts";
import type { PolicyDefinition } from "./policy.ts";
import { rewritePolicy } from "./rewrite.ts";

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
]);
