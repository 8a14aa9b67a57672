/**
 * Canary rules compiled once per snapshot: a test for the request path, and for `explain` a
 * sentence saying why a request did or did not meet each rule.
 */
import type { NormalizedCanaryRule } from "../config/normalized.ts";
import { claimOf, type TrafficInput } from "./traffic_input.ts";
import { compileValueRule, showValue, type ValueRule } from "./value_match.ts";

/** Where a condition reads its values. */
export type CanaryKind = "header" | "cookie" | "query" | "claim";

/** One named value a rule checks: `header x-env = "canary"`. */
interface Check {
  readonly label: string;
  readonly rule: ValueRule;
  read(input: TrafficInput): unknown;
}

/** What explain says about one rule for one request. */
export interface CanaryVerdict {
  /** `matched`, `failed`, or `unknown` when it reads claims that explain cannot see. */
  outcome: "matched" | "failed" | "unknown";
  /** Why: each value as the request has it, against what the rule expects. */
  reason: string;
}

/** A compiled canary rule. */
export class CanaryMatcher {
  readonly kind: CanaryKind;
  readonly #checks: readonly Check[];

  constructor(readonly config: NormalizedCanaryRule) {
    const [kind, values] = Object.entries(config.when)[0] as [CanaryKind, object];
    this.kind = kind;
    this.#checks = Object.entries(values).map(([name, match]) => ({
      label: `${kind} ${name}`,
      rule: compileValueRule(match),
      read: reader(kind, name),
    }));
  }

  /** Whether the request meets every check of the rule. */
  test(input: TrafficInput): boolean {
    const checks = this.#checks;
    for (let i = 0; i < checks.length; i++) {
      if (!checks[i].rule.test(checks[i].read(input))) return false;
    }
    return true;
  }

  /** The rule's condition as text: `header x-env = "canary" and header x-beta present`. */
  describe(): string {
    return this.#checks.map((c) => `${c.label} ${c.rule.expectation}`).join(" and ");
  }

  /** Short label for listings: `header x-env`, `claim tier`. */
  label(): string {
    return this.#checks.map((c) => c.label).join(" + ");
  }

  /** Explain's verdict for `input`. */
  verdict(input: TrafficInput): CanaryVerdict {
    if (this.kind === "claim" && !input.knowsClaims) {
      return {
        outcome: "unknown",
        reason: "claims are verified by the route's jwt policy when a request arrives; explain " +
          "runs no policies, so this rule is decided per request",
      };
    }
    const failed = this.#checks.filter((c) => !c.rule.test(c.read(input)));
    const shown = (failed.length ? failed : this.#checks).map((c) =>
      `${c.label} is ${showValue(c.read(input))}, expected ${c.rule.expectation}`
    );
    return { outcome: failed.length ? "failed" : "matched", reason: shown.join("; ") };
  }
}

function reader(kind: CanaryKind, name: string): (input: TrafficInput) => unknown {
  switch (kind) {
    case "header":
      return (input) => input.header(name);
    case "cookie":
      return (input) => input.cookie(name);
    case "query":
      return (input) => input.queryParam(name);
    case "claim":
      return (input) => claimOf(input, name);
  }
}
