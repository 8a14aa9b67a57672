/** How the `rewrite` policy validates its options and rewrites the upstream path. */
import { z } from "zod";
import { backtrackingProblem } from "../config/regex_safety.ts";
import type { RewriteConfig } from "../config/types.ts";
import { normalizePath } from "../routing/path_pattern.ts";
import type { PolicyDefinition } from "./policy.ts";

// Visible ASCII only: the prefix goes into the request line, where a space, control or
// non-ASCII character cannot (every request failed with a 502 instead of the config with an
// error). The message stays the one a golden config test expects; control characters and
// non-ASCII are "spaces" to it.
const prefix = z.string().regex(
  /^\/[\x21-\x22\x24-\x3e\x40-\x7e]*$/,
  'must start with "/" and hold no "?", "#" or spaces',
);

/** Definition of the `rewrite` policy. */
export const rewritePolicy: PolicyDefinition<"rewrite", RewriteConfig> = {
  kind: "rewrite",
  schema: z.strictObject({
    stripPrefix: prefix.optional(),
    addPrefix: prefix.optional(),
    regex: z.strictObject({
      pattern: z.string().superRefine((p, ctx) => {
        let message: string | undefined;
        try {
          new RegExp(p);
          // It runs against every request's path: one that backtracks catastrophically is refused.
          message = backtrackingProblem(p);
        } catch {
          message = "must be a valid regular expression";
        }
        if (message !== undefined) ctx.addIssue({ code: "custom", message, input: p });
      }),
      // It is written into the request line: a "#" cut the target short at the upstream (the
      // client's query went with it), and a space, a control or a non-ASCII character cannot go
      // there at all (every matching request failed with a 502). A "?" is allowed: it starts a
      // query.
      replacement: z.string().regex(
        /^[\x21-\x22\x24-\x7e]*$/,
        'must not hold "#", spaces, control or non-ASCII characters',
      ),
    }).optional(),
  }),
  create(options) {
    // Read as request paths are (`/%61pi` is `/api`), or it would never match the path it strips.
    const strip = options.stripPrefix && normalizePath(options.stripPrefix).replace(/\/$/, "");
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
      state.upstreamPath = withQuery(resolved(path), query);
      await next();
    };
  },
};

/**
 * The rewritten path resolved as request paths are before routing: a regex capture that starts
 * inside a segment (`^/img-(.*)$` → `/images/$1` on `/img-../admin`) or a replacement that
 * doubles a slash (`/svc/$1` with `$1` = `/users`) would otherwise forward `/images/../admin`
 * or `/svc//users`, which the upstream resolves (or routes) as a path nobody wrote. Forwarded
 * resolved, what the access log and traces record is what the upstream serves. A query the
 * replacement carries is left as is.
 */
function resolved(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  return q < 0
    ? normalizePath(pathAndQuery)
    : normalizePath(pathAndQuery.slice(0, q)) + pathAndQuery.slice(q);
}

/**
 * `path` with the request's `query` ("?x=1" or "") after it. A regex replacement may carry a
 * query of its own (`/v2/$1?legacy=1`): the client's parameters are appended to it with "&",
 * where a second "?" would have made them part of the replacement's last value.
 */
function withQuery(path: string, query: string): string {
  if (query === "") return path;
  if (!path.includes("?")) return path + query;
  return path.endsWith("?") || path.endsWith("&")
    ? path + query.slice(1)
    : `${path}&${query.slice(1)}`;
}
