/**
 * Route conditions other than the path: host, method, headers and query. Each compiles once
 * per snapshot into a test plus a sentence for `explain` saying why a request failed it.
 */
import type { HeaderMatch } from "../config/types.ts";
import { headerText } from "./header_text.ts";
import { type MatchInput, normalizeHost } from "./request_view.ts";

/** A compiled condition: `test` on the hot path, `why` only for `explain`. */
export interface Condition {
  /** Short label for listings: `host`, `method`, `header x-env`. */
  readonly label: string;
  test(input: MatchInput): boolean;
  /** Why `input` failed this condition. */
  why(input: MatchInput): string;
}

/**
 * Exact hosts and `*.suffix` wildcards (a wildcard needs at least one more label). A configured
 * host is read as a request's is (see {@link normalizeHost}): `localhost:8080`, `example.com.` and
 * `::1` would otherwise never match, since requests are compared without port or trailing dot.
 */
export function hostCondition(hosts: readonly string[]): Condition {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const h of hosts) {
    // A bare IPv6 address (two colons or more) is what a request's `[::1]` holds.
    const bareIpv6 = !h.startsWith("[") && h.indexOf(":") !== h.lastIndexOf(":");
    const host = asciiHost(normalizeHost(bareIpv6 ? `[${h}]` : h));
    if (host.startsWith("*.")) suffixes.push(host.slice(1));
    else exact.add(host);
  }
  const test = (input: MatchInput) => {
    if (exact.has(input.host)) return true;
    for (const s of suffixes) {
      if (input.host.length > s.length && input.host.endsWith(s)) return true;
    }
    return false;
  };
  return {
    label: "host",
    test,
    why: (input) => `host "${input.host}" is not ${hosts.map((h) => `"${h}"`).join(" or ")}`,
  };
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * An internationalised name as clients send it: `bücher.example` is `xn--bcher-kva.example` in
 * a Host (browsers, curl and fetch all convert it; a raw `ü` is an invalid Host, refused with
 * 400), so a route for the Unicode name never matched. A `*.` wildcard keeps its star. Names
 * the URL parser refuses are left as they are.
 */
function asciiHost(host: string): string {
  if (!NON_ASCII.test(host)) return host;
  const wildcard = host.startsWith("*.");
  try {
    const ascii = new URL(`http://${wildcard ? host.slice(2) : host}/`).hostname;
    return wildcard ? `*.${ascii}` : ascii;
  } catch {
    return host;
  }
}

/** One of the listed methods; `GET` routes also take `HEAD`, as every HTTP server does. */
export function methodCondition(methods: readonly string[]): Condition {
  const allowed = new Set(methods.map((m) => m.toUpperCase()));
  if (allowed.has("GET")) allowed.add("HEAD");
  return {
    label: "method",
    test: (input) => allowed.has(input.method),
    why: (input) => `method ${input.method} is not ${[...methods].join(" or ")}`,
  };
}

/**
 * The longest value a regex condition is tested against; a longer one does not match. Patterns
 * that backtrack exponentially are refused at load (`config/regex_safety.ts`), but polynomial
 * ones are not (`\s+$` is quadratic): on a 65,000-character header, which the server accepts,
 * `/\s+$/` holds the gateway's thread for over a second, on 8,192 for a few milliseconds.
 * 8 KiB is also the longest header line nginx and Apache take by default.
 */
export const MAX_REGEX_INPUT = 8192;

/** Builds one header or query condition from its config form. */
function valueCondition(
  source: "header" | "query",
  name: string,
  rule: HeaderMatch,
  read: (input: MatchInput) => string | null,
): Condition {
  const label = `${source} ${name}`;
  const show = (v: string | null) => (v === null ? "absent" : JSON.stringify(v));
  if (typeof rule === "string" || "equals" in rule) {
    const expected = typeof rule === "string" ? rule : rule.equals;
    return {
      label,
      test: (input) => read(input) === expected,
      why: (input) => `${label} is ${show(read(input))}, expected ${JSON.stringify(expected)}`,
    };
  }
  if ("regex" in rule) {
    const re = new RegExp(rule.regex);
    return {
      label,
      test: (input) => {
        const v = read(input);
        return v !== null && v.length <= MAX_REGEX_INPUT && re.test(v);
      },
      why: (input) => {
        const v = read(input);
        return v !== null && v.length > MAX_REGEX_INPUT
          ? `${label} is ${v.length} characters long, more than the ${MAX_REGEX_INPUT} a regex ` +
            `condition reads`
          : `${label} is ${show(v)}, expected to match /${rule.regex}/`;
      },
    };
  }
  const wantPresent = rule.present;
  return {
    label,
    test: (input) => (read(input) !== null) === wantPresent,
    why: (input) =>
      `${label} is ${show(read(input))}, expected it ${wantPresent ? "present" : "absent"}`,
  };
}

/** A condition on a request header (names are case-insensitive). */
export function headerCondition(name: string, rule: HeaderMatch): Condition {
  const lower = name.toLowerCase();
  // As text: a UTF-8 value (`Zürich`) arrives one character per byte.
  return valueCondition("header", lower, rule, (input) => {
    const value = input.header(lower);
    return value === null ? null : headerText(value);
  });
}

/** A condition on a query parameter. */
export function queryCondition(name: string, rule: HeaderMatch): Condition {
  return valueCondition("query", name, rule, (input) => input.queryParam(name));
}
