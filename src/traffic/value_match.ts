/**
 * The value rules of canary conditions (`"canary"`, `{ equals }`, `{ regex }`, `{ present }`),
 * compiled once per snapshot. Header, cookie and query values are strings or absent; a JWT
 * claim can also be a number, a boolean or a list, so the test takes any value:
 * - a number or boolean is compared as its text (`{ level: "3" }` matches `"level": 3`);
 * - a list matches when any of its items does (`{ groups: "beta" }` matches `["beta", "staff"]`);
 * - objects never match `equals` or `regex`; `present` only asks whether the value is there.
 */
import type { HeaderMatch } from "../config/types.ts";
import { MAX_REGEX_INPUT } from "../routing/conditions.ts";

/** A compiled value rule. */
export interface ValueRule {
  test(value: unknown): boolean;
  /** What the rule expects, for explain and listings: `= "canary"`, `~ /^beta/`, `present`. */
  readonly expectation: string;
}

/** Compiles one rule. The regex was validated with the config. */
export function compileValueRule(rule: HeaderMatch): ValueRule {
  if (typeof rule === "string" || "equals" in rule) {
    const expected = typeof rule === "string" ? rule : rule.equals;
    return {
      expectation: `= ${JSON.stringify(expected)}`,
      test: (value) => anyText(value, (text) => text === expected),
    };
  }
  if ("regex" in rule) {
    const re = new RegExp(rule.regex);
    return {
      expectation: `~ /${rule.regex}/`,
      // As for route conditions: a value longer than the cap never matches, so a polynomial
      // pattern cannot hold the thread on a huge header or cookie.
      test: (value) => anyText(value, (text) => text.length <= MAX_REGEX_INPUT && re.test(text)),
    };
  }
  const wanted = rule.present;
  return {
    expectation: wanted ? "present" : "absent",
    test: (value) => (value !== null && value !== undefined) === wanted,
  };
}

/** Whether `value` (or, for a list, any of its items) is text that passes `accepts`. */
function anyText(value: unknown, accepts: (text: string) => boolean): boolean {
  if (typeof value === "string") return accepts(value);
  if (typeof value === "number" || typeof value === "boolean") return accepts(String(value));
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!Array.isArray(item) && anyText(item, accepts)) return true;
    }
  }
  return false;
}

/** A value as explain shows it: `"canary"`, `3`, `["a","b"]`, or `absent`. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return "absent";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
