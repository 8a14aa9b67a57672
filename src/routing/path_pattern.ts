/**
 * Path patterns: `/exact`, `/prefix/*`, `/users/:id` and `/users/:id{[0-9]+}`.
 * A pattern is compiled once per snapshot into segments; matching walks the request's segments
 * without building a regex for the whole path.
 */
import { backtrackingProblem } from "../config/regex_safety.ts";
import { uriEncodedText } from "./uri_text.ts";

/** A pattern that cannot be compiled, with a message that says what to change. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

type Segment =
  | { kind: "literal"; value: string }
  | { kind: "param"; name: string; constraint?: RegExp };

/** A compiled path pattern. */
export interface PathPattern {
  readonly source: string;
  /** True for `/.../*`: the pattern matches its own path and anything below it. */
  readonly prefix: boolean;
  /** Segments before the `*` (for the route index, shadowing analysis and explain). */
  readonly segments: readonly Segment[];
  /** Params captured from already-split request segments, or `null` when it does not match. */
  match(requestSegments: readonly string[]): Record<string, string> | null;
  /** Why `requestSegments` does not match, for `explain` (only called when it does not). */
  mismatch(requestSegments: readonly string[]): string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Splits a request path into segments: `/a/b` → `["a", "b"]`, `/` → `[""]`. */
export function splitPath(path: string): string[] {
  return path.slice(1).split("/");
}

/**
 * The one path routing matches and the upstream is sent: percent-escapes of unreserved
 * characters decoded (RFC 3986 §6.2.2.2) and the others upper-cased (§6.2.2.1), `\` read as `/`,
 * runs of `/` merged into one (as nginx does by default) and `.`/`..` segments removed, as a
 * WHATWG URL parser does (and `..;x` read as `..`, as Java servers do). Deno.serve hands
 * over the request target as the client sent it, so without this `/public/../admin/x`,
 * `/%61dmin/x` or `//admin/x` would pass a `/admin/*` route and its policies, then reach an
 * upstream that resolves it to `/admin/x`. The upstream gets the resolved path, which every
 * server reads the same way.
 */
export function normalizePath(path: string): string {
  const escaped = path.indexOf("%") >= 0;
  // Most paths have none of these: return them untouched without allocating.
  if (
    !escaped && path.indexOf("/.") < 0 && path.indexOf("\\") < 0 && path.indexOf("//") < 0
  ) return path;
  const decoded = escaped ? path.replace(ESCAPE, decodeUnreserved) : path;
  const segments = decoded.slice(1).split(SEPARATOR);
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = withoutDotParameters(segments[i]);
    const last = i === segments.length - 1;
    if (segment === "..") out.pop();
    else if (segment !== "." && (segment !== "" || last)) {
      out.push(segment);
      continue;
    }
    // `/a/b/..` is `/a/`: a dot segment at the end leaves the directory's trailing slash. An
    // empty segment anywhere else is a doubled `/`, merged away.
    if (last && segment !== "") out.push("");
  }
  return "/" + out.join("/");
}

const DOT = 46;

/**
 * `..;x` as `..` and `.;x` as `.`: Java servers (Tomcat, Jetty, so Spring and most Java apps) cut
 * a segment's `;parameters` off before they resolve dot segments, so to them
 * `/public/..;/admin/x` is `/admin/x`; compared as written, it passed a `/public/*` route and its
 * policies and reached `/admin/x` (the "..;" bypass). A dot segment with parameters means nothing
 * else to any server, so it is resolved as the dot segment it is to those.
 */
function withoutDotParameters(segment: string): string {
  if (segment.charCodeAt(0) !== DOT) return segment;
  const semicolon = segment.indexOf(";");
  if (semicolon < 0) return segment;
  const head = segment.slice(0, semicolon);
  return head === "." || head === ".." ? head : segment;
}

const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const SEPARATOR = /[/\\]/;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
const LOWER_HEX = /[a-f]/;

/**
 * `%7E` → `~`; any other escape in upper case. `%c3%a9` and `%C3%A9` are one path (RFC 3986
 * §6.2.2.1) to an upstream, which decodes both to `é`: compared as written, a route for one let
 * the other through to a catch-all route and its policies (`/a%2fb` missed a `/a%2Fb` route).
 */
function decodeUnreserved(escape: string, hex: string): string {
  const char = String.fromCharCode(parseInt(hex, 16));
  if (UNRESERVED.test(char)) return char;
  return LOWER_HEX.test(hex) ? escape.toUpperCase() : escape;
}

/** Compiles a pattern, throwing {@link PatternError} with the reason when it is malformed. */
export function compilePathPattern(source: string): PathPattern {
  if (typeof source !== "string" || !source.startsWith("/")) {
    throw new PatternError(`a path pattern must start with "/", got ${JSON.stringify(source)}`);
  }
  const raw = splitPattern(source);
  let prefix = false;
  if (raw[raw.length - 1] === "*") {
    prefix = true;
    raw.pop();
  }
  // Requests have their doubled slashes merged, so an empty segment can only come last (`/a/`).
  if (raw.some((text, i) => text === "" && (prefix || i < raw.length - 1))) {
    throw new PatternError(
      `${
        JSON.stringify(source)
      } has an empty segment ("//") that can never match: request paths have "//" merged into "/"`,
    );
  }
  const names = new Set<string>();
  const segments: Segment[] = raw.map((text) => {
    if (text.includes("*")) {
      throw new PatternError(
        `"*" is only allowed as the whole last segment (like "/api/*"), found in "${text}" of ${
          JSON.stringify(source)
        }`,
      );
    }
    if (!text.startsWith(":")) return { kind: "literal", value: literalSegment(text, source) };
    const brace = text.indexOf("{");
    const name = brace < 0 ? text.slice(1) : text.slice(1, brace);
    if (!PARAM_NAME.test(name)) {
      throw new PatternError(
        `param name "${name}" in ${JSON.stringify(source)} must be letters, digits or _`,
      );
    }
    if (names.has(name)) {
      throw new PatternError(`param ":${name}" appears twice in ${JSON.stringify(source)}`);
    }
    names.add(name);
    if (brace < 0) return { kind: "param", name };
    if (!text.endsWith("}")) {
      throw new PatternError(
        `param ":${name}" in ${JSON.stringify(source)} has an unclosed "{" constraint`,
      );
    }
    const body = text.slice(brace + 1, -1);
    let constraint: RegExp;
    try {
      constraint = new RegExp(`^(?:${body})$`);
    } catch (e) {
      throw new PatternError(
        `constraint {${body}} of ":${name}" in ${JSON.stringify(source)} is not a valid regex: ${
          (e as Error).message
        }`,
      );
    }
    // It runs against every request's segment: one that backtracks catastrophically is refused.
    const problem = backtrackingProblem(body);
    if (problem !== undefined) {
      throw new PatternError(
        `constraint {${body}} of ":${name}" in ${JSON.stringify(source)}: ${problem}`,
      );
    }
    return { kind: "param", name, constraint };
  });
  const hasParams = names.size > 0;
  const shape = prefix ? `at least ${segments.length}` : `exactly ${segments.length}`;
  return {
    source,
    prefix,
    segments,
    match(req) {
      // "/api/*" takes "/api", "/api/" and anything below, never "/apix": segments compare whole.
      if (prefix ? req.length < segments.length : req.length !== segments.length) return null;
      // Check first, capture after: most candidates fail, and failing must not allocate.
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i];
        const value = req[i];
        if (seg.kind === "literal") {
          if (seg.value !== value) return null;
        } else if (value === "" || (seg.constraint && !seg.constraint.test(value))) return null;
      }
      if (!hasParams) return NO_PARAMS;
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i];
        if (seg.kind === "param") params[seg.name] = req[i];
      }
      return params;
    },
    mismatch(req) {
      for (let i = 0; i < Math.min(segments.length, req.length); i++) {
        const seg = segments[i];
        const value = req[i];
        if (seg.kind === "literal" && seg.value !== value) {
          return `segment ${i + 1} is ${JSON.stringify(value)}, expected ${
            JSON.stringify(seg.value)
          }`;
        }
        if (seg.kind === "param" && value === "") return `:${seg.name} is empty`;
        if (seg.kind === "param" && seg.constraint && !seg.constraint.test(value)) {
          return `:${seg.name} is ${JSON.stringify(value)}, which does not match ${
            seg.constraint.source.slice(4, -2)
          }`;
        }
      }
      return `the path has ${req.length} segment(s), ${JSON.stringify(source)} needs ${shape}`;
    },
  };
}

/**
 * A literal segment as {@link normalizePath} leaves request segments: `%7E` is `~`, `%2f` is
 * `%2F`, and `café` is `caf%C3%A9`, which is how every client sends it (a route for `/café/*`
 * never matched). A segment no normalised path can hold (`.`, `..`, one with `\`) would make a
 * route that never matches.
 */
function literalSegment(text: string, source: string): string {
  if (!text.isWellFormed()) {
    throw new PatternError(`segment of ${JSON.stringify(source)} holds a lone UTF-16 surrogate`);
  }
  const value = uriEncodedText(text).replace(ESCAPE, decodeUnreserved);
  const dots = withoutDotParameters(value);
  if (dots === "." || dots === ".." || value.includes("\\")) {
    throw new PatternError(
      `segment "${text}" of ${
        JSON.stringify(source)
      } can never match: request paths are resolved first ("/a/../b" is "/b", "\\" is "/")`,
    );
  }
  return value;
}

/** Splits a pattern on "/" but not inside `{...}` constraints, which may contain slashes. */
function splitPattern(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 1;
  for (let i = 1; i < source.length; i++) {
    const c = source[i];
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth < 0) throw new PatternError(`unbalanced "}" in ${JSON.stringify(source)}`);
    } else if (c === "/" && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new PatternError(`unbalanced "{" in ${JSON.stringify(source)}`);
  parts.push(source.slice(start));
  return parts;
}
