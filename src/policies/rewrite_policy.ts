/** How the `rewrite` policy validates its options and rewrites the upstream path. */
import { z } from "zod";
import { backtrackingProblem } from "../config/regex_safety.ts";
import type { RewriteConfig } from "../config/types.ts";
import { normalizePath } from "../routing/path_pattern.ts";
import { uriEncodedText } from "../routing/uri_text.ts";
import type { PolicyDefinition } from "./policy.ts";

/**
 * A prefix as request paths are compared and sent: non-ASCII characters and spaces as the
 * percent-encoded UTF-8 clients send (`/café` is `/caf%C3%A9`, as in route patterns), escapes
 * in one case and unreserved ones decoded (`/%7euser` is `/~user`), without its trailing "/".
 * Compared as written, `/café` next to a route for `/café/*` could never strip anything.
 */
function prefixOnTheWire(text: string): string {
  return normalizePath(uriEncodedText(text)).replace(/\/$/, "");
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const DOT_OR_EMPTY_SEGMENT = /(^|[/\\])\.{1,2}(;[^/\\]*)?([/\\]|$)|[/\\]{2}|\\/;

/**
 * A prefix goes into the request line: "?", "#" and control characters cannot be part of a
 * path there (every request failed with a 502 instead of the config with an error). Spaces and
 * non-ASCII characters are sent percent-encoded, as clients send them. The first message stays
 * the one a golden config test expects.
 */
function prefix(kind: "strip" | "add") {
  return z.string().superRefine((text, ctx) => {
    const problem = prefixProblem(text, kind);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: text });
  });
}

function prefixProblem(text: string, kind: "strip" | "add"): string | undefined {
  if (!text.startsWith("/")) return 'must start with "/" and hold no "?", "#" or spaces';
  if (text.includes("?") || text.includes("#")) {
    return 'must not hold "?" or "#": it is part of the path, and the query stays the client\'s';
  }
  if (CONTROL.test(text)) return "must not hold control characters";
  if (!text.isWellFormed()) return "holds a lone UTF-16 surrogate";
  // Request paths are resolved before any policy runs: a "." or ".." segment, "\\" or "//"
  // is never in the path a stripPrefix is compared with.
  if (kind === "strip" && DOT_OR_EMPTY_SEGMENT.test(text.replace(/\/$/, ""))) {
    return 'can never match: request paths are resolved first ("/a/../b" is "/b", "//" is "/", "\\" is "/")';
  }
  return undefined;
}

/** Definition of the `rewrite` policy. */
export const rewritePolicy: PolicyDefinition<"rewrite", RewriteConfig> = {
  kind: "rewrite",
  schema: z.strictObject({
    stripPrefix: prefix("strip").optional(),
    addPrefix: prefix("add").optional(),
    regex: z.strictObject({
      pattern: z.string().superRefine((p, ctx) => {
        let message: string | undefined;
        try {
          new RegExp(p);
          // It runs against every request's path: one that backtracks catastrophically is refused.
          const wire = patternOnTheWire(p);
          message = backtrackingProblem(p) ?? wire.problem;
          if (message === undefined) new RegExp(wire.source);
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
    const strip = options.stripPrefix && prefixOnTheWire(options.stripPrefix);
    const add = options.addPrefix && prefixOnTheWire(options.addPrefix);
    const re = options.regex
      ? new RegExp(patternOnTheWire(options.regex.pattern).source)
      : undefined;
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

/** A `regex.pattern` as it runs, or why it cannot match the paths it is meant for. */
interface WirePattern {
  source: string;
  problem?: string;
}

const LITERAL_ESCAPE = /^%([0-9A-Fa-f]{2})/;
const CHAR_ESCAPE = /^\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4}))/;
const GROUP_NAME = /^(?:\(\?<(?![=!])|\\k<)[^>]*>/;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * `pattern` rewritten to match paths as policies see them (see {@link prefixOnTheWire}): outside
 * a character class, a non-ASCII character or a space becomes its percent-encoded UTF-8 as one
 * group (`^/café/(.*)` runs as `^/caf(?:%C3%A9)/(.*)`, so `é+` still repeats the character), and
 * a literal escape is read as in request paths (`%c3` as `%C3`, `%7e` as `~`). Written as is,
 * such a pattern was accepted and never matched. A class cannot hold a multi-byte character, so
 * a non-ASCII one inside `[...]` is a config error. Done once per snapshot, never per request.
 */
function patternOnTheWire(pattern: string): WirePattern {
  let source = "";
  let inClass = false;
  let i = 0;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    const name = inClass ? null : GROUP_NAME.exec(rest);
    if (name) {
      source += name[0];
      i += name[0].length;
      continue;
    }
    const ch = String.fromCodePoint(pattern.codePointAt(i)!);
    if (ch === "\\") {
      // `\%` is a literal "%": read on from it, so `\%c3` is an escape like `%c3`.
      if (rest[1] === "%" && !inClass) {
        i++;
        continue;
      }
      const char = inClass ? null : CHAR_ESCAPE.exec(rest);
      const code = char ? parseInt(char[1] ?? char[2], 16) : 0x21;
      if (char && (code < 0x21 || code > 0x7e)) {
        const literal = String.fromCharCode(code);
        if (!literal.isWellFormed()) {
          return { source, problem: `${char[0]} is half a character: write the character itself` };
        }
        source += encodedGroup(literal);
        i += char[0].length;
        continue;
      }
      source += rest.slice(0, 2);
      i += 2;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      else if (ch.codePointAt(0)! > 0x7e || ch === " ") {
        return { source, problem: classProblem(ch) };
      }
      source += ch;
      i += ch.length;
      continue;
    }
    if (ch === "[") inClass = true;
    const escape = LITERAL_ESCAPE.exec(rest);
    if (escape) {
      source += literalEscape(escape[1]);
      i += 3;
      continue;
    }
    source += NOT_ON_THE_WIRE_ONE.test(ch) ? encodedGroup(ch) : ch;
    i += ch.length;
  }
  return { source };
}

const NOT_ON_THE_WIRE_ONE = /^[^\x21-\x7e]$/u;

/** `é` as `(?:%C3%A9)`: one group, so a quantifier after it repeats the whole character. */
function encodedGroup(ch: string): string {
  const encoded = encodeURIComponent(ch);
  return encoded.length === 3 ? encoded : `(?:${encoded})`;
}

/** A `%xx` written in a pattern as {@link normalizePath} leaves it in request paths. */
function literalEscape(hex: string): string {
  const char = String.fromCharCode(parseInt(hex, 16));
  if (!UNRESERVED.test(char)) return `%${hex.toUpperCase()}`;
  return char === "." ? "\\." : char;
}

function classProblem(ch: string): string {
  const shown = ch === " " ? "a space" : JSON.stringify(ch);
  return `a character class cannot match ${shown}: request paths carry it percent-encoded (${
    encodeURIComponent(ch)
  }); write it outside "[...]", as in (?:é|è)`;
}
