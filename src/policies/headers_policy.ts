/** How the `headers` policy validates its options and edits headers. */
import { z } from "zod";
import type { HeaderRules } from "../config/types.ts";
import { editableRequestHeaders } from "../proxy/state.ts";
import { headerName, headerValue } from "./header_field_schemas.ts";
import type { HeadersOptions } from "./headers.ts";
import type { PolicyDefinition } from "./policy.ts";

const rules = z.strictObject({
  add: z.record(headerName, headerValue).optional(),
  set: z.record(headerName, headerValue).optional(),
  remove: z.array(headerName).optional(),
});

function apply(target: Headers, r: HeaderRules | undefined) {
  if (!r) return;
  for (const name of r.remove ?? []) target.delete(name);
  for (const [k, v] of Object.entries(r.set ?? {})) target.set(k, v);
  for (const [k, v] of Object.entries(r.add ?? {})) target.append(k, v);
}

/** Definition of the `headers` policy. */
export const headersPolicy: PolicyDefinition<"headers", HeadersOptions> = {
  kind: "headers",
  schema: z.strictObject({ request: rules.optional(), response: rules.optional() }),
  create: (options) => async (c, next) => {
    if (options.request) {
      apply(editableRequestHeaders(c.get("proxy"), c.req.raw.headers), options.request);
    }
    await next();
    if (options.response) apply(c.res.headers, options.response);
  },
};
