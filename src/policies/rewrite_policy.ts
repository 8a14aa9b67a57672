/** How the `rewrite` policy validates its options and rewrites the upstream path. */
import { z } from "zod";
import type { RewriteConfig } from "../config/types.ts";
import type { PolicyDefinition } from "./policy.ts";

const prefix = z.string().regex(
  /^\/[^?#\s]*$/,
  'must start with "/" and hold no "?", "#" or spaces',
);

/** Definition of the `rewrite` policy. */
export const rewritePolicy: PolicyDefinition<"rewrite", RewriteConfig> = {
  kind: "rewrite",
  schema: z.strictObject({
    stripPrefix: prefix.optional(),
    addPrefix: prefix.optional(),
    regex: z.strictObject({
      pattern: z.string().refine((p) => {
        try {
          new RegExp(p);
          return true;
        } catch {
          return false;
        }
      }, "must be a valid regular expression"),
      replacement: z.string(),
    }).optional(),
  }),
  create(options) {
    const strip = options.stripPrefix?.replace(/\/$/, "");
    const add = options.addPrefix?.replace(/\/$/, "");
    const re = options.regex ? new RegExp(options.regex.pattern) : undefined;
    return async (c, next) => {
      const state = c.get("proxy");
      const q = state.upstreamPath.indexOf("?");
      let path = q < 0 ? state.upstreamPath : state.upstreamPath.slice(0, q);
      const query = q < 0 ? "" : state.upstreamPath.slice(q);
      if (strip && (path === strip || path.startsWith(strip + "/"))) {
        path = path.slice(strip.length) || "/";
      }
      if (add) path = add + path;
      if (re) path = path.replace(re, options.regex!.replacement);
      // A replacement could produce a relative or empty path; the request line needs "/".
      if (!path.startsWith("/")) path = "/" + path;
      state.upstreamPath = path + query;
      await next();
    };
  },
};
