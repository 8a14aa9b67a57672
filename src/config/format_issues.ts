/**
 * How config problems read: paths like `routes[3].match.path`, found values shown briefly, and
 * the report printed by `ferry check` and at start-up. Validation builds messages with these so
 * every message quotes values the same way.
 */
import type { ConfigIssue } from "./normalized.ts";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const PREVIEW_LIMIT = 60;

/**
 * Formats a path: keys dotted, indices in brackets, keys that are not identifiers quoted
 * (`upstreams["my-api"].targets[0]`). The empty path is the config itself: `""`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/**
 * A string as a JSON literal, with DEL and the C1 controls escaped too (JSON.stringify leaves
 * them raw): an error about an invisible character must show it.
 */
function quoted(text: string): string {
  return JSON.stringify(text).replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * A URL's user name and password replaced by "***": messages about a URL that holds
 * credentials must not print them (the user name may itself be a token).
 */
function withoutUserinfo(text: string): string {
  return text
    .replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@")
    // Without a scheme, only the unmistakable "user:password@host" (an e-mail address stays).
    .replace(/^(\s*)[^\s/?#@:]*:[^\s/?#@]*@/, "$1***@");
}

/**
 * A short, safe rendering of a found value for "got …" in messages. Never throws, whatever the
 * value is (cyclic, a function, a getter that throws), because bad input must not crash us.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "nothing";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
    case "bigint":
      return `${value}n`;
    case "number":
    case "boolean":
      return String(value);
    case "string": {
      const text = withoutUserinfo(value);
      return text.length > PREVIEW_LIMIT
        ? `${quoted(text.slice(0, PREVIEW_LIMIT))}…`
        : quoted(text);
    }
  }
  if (value === null) return "null";
  try {
    const json = JSON.stringify(value);
    if (json !== undefined && json.length <= PREVIEW_LIMIT) return json;
  } catch {
    // Cycles, BigInts and throwing getters fall through to the generic description.
  }
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  return "an object";
}

/**
 * One line per issue, errors first, then a count line:
 *
 * ```
 * error   routes[3].match.path: "*" is only allowed as the whole last segment …
 * warning routes[5]: route "legacy" can never match: …
 * 1 error, 1 warning in routes.config.ts
 * ```
 */
export function formatIssues(issues: readonly ConfigIssue[], source?: string): string {
  const errors = issues.filter((i) => i.severity === "error");
  const warnings = issues.filter((i) => i.severity !== "error");
  const lines = [...errors, ...warnings].map((issue) => {
    const label = issue.severity.padEnd(8);
    const where = issue.path === "" ? "" : `${issue.path}: `;
    // Keep one issue on one line even if a message (say, from a parser) carries newlines.
    return `${label}${where}${issue.message.replace(/\s*\n\s*/g, " ")}`;
  });
  const count = `${plural(errors.length, "error")}, ${plural(warnings.length, "warning")}`;
  lines.push(source === undefined ? count : `${count} in ${source}`);
  return lines.join("\n");
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
