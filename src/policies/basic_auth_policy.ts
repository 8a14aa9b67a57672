/**
 * Placeholder definition of the `basicAuth` policy: registered so the kind validates and the
 * conformance test runs while its implementation is written. Replace wholesale.
 */
import { z } from "zod";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `basicAuth` policy. */
export const basicAuthPolicy: PolicyDefinition<"basicAuth", Record<string, never>> = {
  kind: "basicAuth",
  schema: z.strictObject({}),
  create: () => async (_c, next) => {
    await next();
  },
};
