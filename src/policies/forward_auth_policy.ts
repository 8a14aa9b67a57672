/**
 * Placeholder definition of the `forwardAuth` policy: registered so the kind validates and the
 * conformance test runs while its implementation is written. Replace wholesale.
 */
import { z } from "zod";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `forwardAuth` policy. */
export const forwardAuthPolicy: PolicyDefinition<"forwardAuth", Record<string, never>> = {
  kind: "forwardAuth",
  schema: z.strictObject({}),
  create: () => async (_c, next) => {
    await next();
  },
};
