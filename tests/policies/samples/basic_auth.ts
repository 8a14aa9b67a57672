import { hashPassword } from "../../../src/identity/secret_hash.ts";
import type { Sample } from "./sample.ts";

// The lowest cost Ferry accepts keeps the conformance run fast.
const hash = await hashPassword("conformance pässword", { N: 1024 });

/** Conformance sample of `basicAuth`: one user from the environment, sent as Basic. */
export const sample: Sample = {
  valid: { realm: "conformance", usersEnv: "CONFORMANCE_USERS" },
  env: { CONFORMANCE_USERS: `ana:${hash}` },
  invalid: { realm: "conformance", usersEnv: "CONFORMANCE_USERS", relam: "typo" },
  unknownKey: "relam",
  requestHeaders: {
    authorization: `Basic ${
      btoa(String.fromCharCode(...new TextEncoder().encode("ana:conformance pässword")))
    }`,
  },
};
