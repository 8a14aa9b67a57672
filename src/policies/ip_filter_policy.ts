/**
 * Placeholder definition of the `ipFilter` policy: registered so the kind validates and the
 * conformance test runs while its implementation is written. Replace wholesale.
 */
import { z } from "zod";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `ipFilter` policy. */
export const ipFilterPolicy: PolicyDefinition<"ipFilter", Record<string, never>> = {
  kind: "ipFilter",
  schema: z.strictObject({}),
  create: () => async (_c, next) => {
    await next();
  },
};
