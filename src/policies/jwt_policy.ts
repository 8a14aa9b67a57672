/**
 * Placeholder definition of the `jwt` policy: registered so the kind validates and the
 * conformance test runs while its implementation is written. Replace wholesale.
 */
import { z } from "zod";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `jwt` policy. */
export const jwtPolicy: PolicyDefinition<"jwt", Record<string, never>> = {
  kind: "jwt",
  schema: z.strictObject({}),
  create: () => async (_c, next) => {
    await next();
  },
};
