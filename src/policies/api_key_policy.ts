/**
 * Placeholder definition of the `apiKey` policy: registered so the kind validates and the
 * conformance test runs while its implementation is written. Replace wholesale.
 */
import { z } from "zod";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `apiKey` policy. */
export const apiKeyPolicy: PolicyDefinition<"apiKey", Record<string, never>> = {
  kind: "apiKey",
  schema: z.strictObject({}),
  create: () => async (_c, next) => {
    await next();
  },
};
