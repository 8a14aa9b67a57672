import type { Sample } from "./sample.ts";

/** Conformance sample of `ipFilter`: loopback allowed (tests connect from 127.0.0.1). */
export const sample: Sample = {
  valid: { allow: ["127.0.0.0/8", "::1"], deny: ["10.0.0.0/8"] },
  invalid: { allow: ["127.0.0.0/8"], dney: ["10.0.0.0/8"] },
  unknownKey: "dney",
};
