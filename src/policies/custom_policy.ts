/** How the `custom` policy validates its options; its module comes preloaded (custom_modules.ts). */
import { z } from "zod";
import type { CustomPolicyOptions } from "./custom.ts";
import { CONTROL_CHARACTER } from "./header_field_schemas.ts";
import type { PolicyDefinition, PolicyMiddleware } from "./policy.ts";

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
    return checkedHeaders(factory(options.options ?? {}), options.module);
  },
};

/**
 * Runs a custom policy, then checks the header values of the response it leaves. Headers accept
 * control characters other than CR, LF and NUL, but Deno's HTTP/1.1 writer panics on them,
 * which ends the whole gateway; built-in policies only set values checked at load, but code is
 * code. The request fails instead (a 500, with the module and header in the gateway's log).
 */
function checkedHeaders(policy: PolicyMiddleware, module: string): PolicyMiddleware {
  return async (c, next) => {
    const result = await policy(c, next);
    const res = result instanceof Response ? result : c.res;
    let bad: string | undefined;
    res.headers.forEach((value, name) => {
      if (bad === undefined && CONTROL_CHARACTER.test(value)) bad = name;
    });
    if (bad !== undefined) {
      throw new Error(
        `custom policy "${module}" left a control character in the value of response header "${bad}"`,
      );
    }
    return result;
  };
}
