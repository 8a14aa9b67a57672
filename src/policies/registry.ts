import { jwtPolicy } from "./jwt_policy.ts";
import { apiKeyPolicy } from "./api_key_policy.ts";
import { basicAuthPolicy } from "./basic_auth_policy.ts";
import { forwardAuthPolicy } from "./forward_auth_policy.ts";
import { ipFilterPolicy } from "./ip_filter_policy.ts";
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
  [jwtPolicy.kind, jwtPolicy],
  [apiKeyPolicy.kind, apiKeyPolicy],
  [basicAuthPolicy.kind, basicAuthPolicy],
  [forwardAuthPolicy.kind, forwardAuthPolicy],
  [ipFilterPolicy.kind, ipFilterPolicy],
  [faultPolicy.kind, faultPolicy],
]);
