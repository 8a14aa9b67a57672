import type { Sample } from "./sample.ts";

/** Conformance sample of `ipFilter` (placeholder until the policy is written). */
export const sample: Sample = {
  valid: {},
  invalid: { placeholder: true },
  unknownKey: "placeholder",
};
