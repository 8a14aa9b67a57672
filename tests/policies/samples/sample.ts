/** A policy kind's conformance sample (see `../policy_conformance_test.ts`). */
import type { CustomPolicyFactory } from "../../../src/policies/custom.ts";

export interface Sample {
  /** Options the schema must accept and that must let a plain GET through. */
  valid: Record<string, unknown>;
  /** Options with exactly one unknown key (a plausible typo), which the schema must reject. */
  invalid: Record<string, unknown>;
  /** The unknown key in `invalid`. */
  unknownKey: string;
  /** Environment the policy reads while built (secrets are read by name). */
  env?: Record<string, string>;
  /** Preloaded custom policy modules by specifier (the gateway imports them before building). */
  modules?: Record<string, CustomPolicyFactory>;
  /**
   * Headers that make the plain GET acceptable to the policy (credentials for identity
   * policies). Policies that need a live service to say yes (an IdP, an auth server) are
   * exercised in their own tests; here they must still build and validate.
   */
  requestHeaders?: Record<string, string>;
}
