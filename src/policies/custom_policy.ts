/** How the `custom` policy validates its options; its module comes preloaded (custom_modules.ts). */
import { z } from "zod";
import type { CustomPolicyOptions } from "./custom.ts";
import type { PolicyDefinition } from "./policy.ts";

/** Definition of the `custom` policy; the module itself comes preloaded through the env. */
export const customPolicy: PolicyDefinition<"custom", CustomPolicyOptions> = {
  kind: "custom",
  schema: z.strictObject({
    module: z.string().regex(
      /\.(?:m?[jt]s|tsx|jsx)$/,
      "must be a path to a .ts, .mts, .js or .mjs module",
    ),
    options: z.record(z.string(), z.unknown()).optional(),
  }),
  create(options, env) {
    const factory = env.customModule?.(options.module);
    if (!factory) throw new Error(`custom policy module "${options.module}" was not loaded`);
    return factory(options.options ?? {});
  },
};
