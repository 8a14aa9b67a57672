/**
 * Finding the first value in a config that is not plain data. A config module is loaded in a
 * Worker and its default export structured-cloned back; the clone error names neither where the
 * value is nor, for a function, anything but its whole source text. The config is also
 * fingerprinted as JSON. This walk says where, so the error can name the path.
 *
 * It reads values as cloning does (own enumerable properties), and never throws: a getter that
 * throws is itself the finding.
 */
import { formatPath } from "./format_issues.ts";

/** Where the first non-plain value is, and what it is or why it could not be read. */
export interface NonPlainValue {
  path: PropertyKey[];
  /** "a function", "a symbol", …; or, for a getter or Proxy that threw, its error. */
  found: string;
  /** Whether reading the value threw (`found` is then the error's message). */
  threw: boolean;
}

const PLAIN = "plain data (objects, arrays, strings, numbers, booleans)";
const notPlain = (path: PropertyKey[], found: string): NonPlainValue => ({
  path,
  found,
  threw: false,
});
const unreadable = (path: PropertyKey[], e: unknown): NonPlainValue => ({
  path,
  found: e instanceof Error ? e.message : String(e),
  threw: true,
});

/** The finding as an issue at its own path: "expected plain data …, got a function". */
export function nonPlainMessage(value: NonPlainValue): string {
  return value.threw
    ? `reading this value failed: ${value.found}`
    : `expected ${PLAIN}, got ${value.found}`;
}

/**
 * The finding as one line about the whole file, naming where the value is: for loads that can
 * only report on the file (the Worker's answer).
 */
export function nonPlainFileMessage(value: NonPlainValue): string {
  const where = value.path.length === 0 ? "the config itself" : formatPath(value.path);
  return `the config must be ${PLAIN}: ` +
    (value.threw ? `reading ${where} failed: ${value.found}` : `${where} is ${value.found}`);
}

/** Objects whose cloned form holds their data: anything else is checked by cloning it. */
function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The first value of `root` that cannot travel as data, depth first; `undefined` if none. */
export function findNonPlainValue(root: unknown): NonPlainValue | undefined {
  const seen = new Set<object>();
  const visit = (value: unknown, path: PropertyKey[]): NonPlainValue | undefined => {
    if (typeof value === "function") return notPlain(path, "a function");
    if (typeof value === "symbol") return notPlain(path, "a symbol");
    if (typeof value !== "object" || value === null || seen.has(value)) return undefined;
    seen.add(value);
    try {
      if (value instanceof Promise) return notPlain(path, "a Promise");
      if (!isPlainContainer(value)) {
        // A Date, a Map or a class instance: fine when it clones (validation then judges it).
        try {
          structuredClone(value);
          return undefined;
        } catch {
          // The clone error's text holds a function's whole source: name the type instead.
          return notPlain(path, `a ${value.constructor?.name ?? "value"} that cannot be copied`);
        }
      }
      for (const key of Object.keys(value)) {
        const at = [...path, Array.isArray(value) ? Number(key) : key];
        let child: unknown;
        try {
          child = (value as Record<string, unknown>)[key];
        } catch (e) {
          return unreadable(at, e);
        }
        const found = visit(child, at);
        if (found) return found;
      }
      return undefined;
    } catch (e) {
      // A Proxy whose traps throw.
      return unreadable(path, e);
    }
  };
  return visit(root, []);
}
