/** How the `headers` policy validates its options and edits headers. */
import { z } from "zod";
import type { HeaderRules } from "../config/types.ts";
import { editableRequestHeaders } from "../proxy/state.ts";
import { headerName, headerValue } from "./header_field_schemas.ts";
import type { HeadersOptions } from "./headers.ts";
import type { PolicyDefinition } from "./policy.ts";

/**
 * A value the policy sets: no control characters, and Latin-1 only. `Headers` refuses a
 * character above U+00FF (`"€"`, `"✓"`), so such a value was accepted as config and then failed
 * every request with a 500; it is a config error instead (send non-Latin-1 text encoded, e.g.
 * percent- or RFC 8187-encoded).
 */
const settableValue = headerValue.refine(
  (v) => !NON_LATIN1.test(v),
  "must hold only Latin-1 characters (U+0000-U+00FF); encode other text",
);
const NON_LATIN1 = /[\u0100-\uffff]/; // any UTF-16 code unit above U+00FF, surrogates too

const rules = z.strictObject({
  add: z.record(headerName, settableValue).optional(),
  set: z.record(headerName, settableValue).optional(),
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
