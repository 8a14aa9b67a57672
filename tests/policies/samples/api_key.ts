import { hashApiKey } from "../../../src/identity/secret_hash.ts";
import type { Sample } from "./sample.ts";

/** Conformance sample of `apiKey`: one hashed key, sent in the default header. */
export const sample: Sample = {
  valid: { keys: [{ name: "conformance", hash: hashApiKey("conformance-key-7f3a") }] },
  invalid: { keys: [{ name: "conformance", hash: hashApiKey("k") }], headr: "x-key" },
  unknownKey: "headr",
  requestHeaders: { "x-api-key": "conformance-key-7f3a" },
};
