/**
 * `explain` for the traffic decision: which canary rule takes a request (and why each earlier
 * one did not), or how the split places it. It compiles the route's rules on the spot (explain
 * is not on the request path) and reads no live state: a round-robin's next pick depends on the
 * traffic before it, so explain says so instead of guessing.
 */
import type { NormalizedRoute } from "../config/normalized.ts";
import type { CanaryWhen } from "../config/types.ts";
import { CanaryMatcher, type CanaryVerdict } from "./canary.ts";
import { SmoothWeightedRoundRobin } from "./smooth_wrr.ts";
import { describeWeights, TrafficSplit } from "./split.ts";
import { describeStickyKey } from "./sticky.ts";
import type { TrafficInput } from "./traffic_input.ts";

/** One canary rule as explain saw it. */
export interface CanaryStep extends CanaryVerdict {
  /** `canary[0]` */
  rule: string;
  /** `header x-env = "canary"` */
  condition: string;
  upstream: string;
  color?: string;
}

/** How the split places the request, when no canary rule took it. */
export interface SplitStep {
  /** `"v1" 95 / "v2" 5` */
  weights: string;
  /** `sticky` when the request's key decides; `round-robin` otherwise. */
  mode: "sticky" | "round-robin";
  /** The sticky key: `header x-user-id`. */
  key?: string;
  /** The key's value in this request. */
  value?: string;
  /** The side the key hashes to (sticky mode). */
  upstream?: string;
  /** The sentence explain prints. */
  reason: string;
}

/** The traffic decision for one request. */
export interface TrafficExplanation {
  /** The rules evaluated, in order, up to the one that matched. */
  canaries: CanaryStep[];
  /** Present when no rule matched for sure and the route splits. */
  split?: SplitStep;
  /** The upstream the request goes to, when explain can know it. */
  upstream?: string;
  /** The color sent upstream, when a colored rule matched. */
  color?: string;
  /** One line: the outcome and why. */
  decision: string;
}

/**
 * Explains the traffic decision of a route that has one (`split` or `canary`).
 *
 * `writtenByPolicy` names the request headers (lower-case) that a policy of the route writes
 * from what it learns per request (`apiKey`'s `consumerHeader`, `jwt`'s `claimsToHeaders`...),
 * each with the policy's kind: rules and sticky keys reading them are decided per request, as
 * claim rules are, not from the value the client sent (which the policy replaces).
 */
export function explainTraffic(
  route: NormalizedRoute,
  input: TrafficInput,
  writtenByPolicy: ReadonlyMap<string, string> = new Map(),
): TrafficExplanation {
  const canaries: CanaryStep[] = [];
  let undecided: string | undefined; // what an earlier rule explain cannot evaluate reads
  const rules = route.canary ?? [];
  for (let i = 0; i < rules.length; i++) {
    const matcher = new CanaryMatcher(rules[i]);
    const { upstream, color } = rules[i];
    const written = policyWritten(rules[i].when, writtenByPolicy);
    const step: CanaryStep = {
      rule: `canary[${i}]`,
      condition: matcher.describe(),
      upstream,
      ...(color !== null ? { color } : {}),
      ...(written
        ? {
          outcome: "unknown" as const,
          reason: `${written.label} is written by the route's ${written.policy} policy when a ` +
            `request arrives`,
        }
        : matcher.verdict(input)),
    };
    canaries.push(step);
    if (step.outcome === "unknown") {
      undecided ??= written ? "a rule on a policy-written header" : "a claim rule";
    }
    if (step.outcome !== "matched") continue;
    const to = `${step.rule} → upstream "${upstream}"${
      color !== null ? ` (color "${color}")` : ""
    }`;
    return undecided
      ? { canaries, decision: `${to}, unless an earlier ${undecided.slice(2)} matches` }
      : { canaries, upstream, ...(color !== null ? { color } : {}), decision: to };
  }
  const unless = undecided ? `unless ${undecided} matches: ` : "";
  if (!route.split) {
    const upstream = route.upstream!;
    return {
      canaries,
      ...(undecided ? {} : { upstream }),
      decision: `${unless}no canary rule matches → default upstream "${upstream}"`,
    };
  }
  const split = splitStep(route, input, writtenByPolicy);
  return {
    canaries,
    split,
    ...(split.upstream !== undefined && !undecided ? { upstream: split.upstream } : {}),
    decision: `${unless}${split.reason}`,
  };
}

/** The first header (or the cookie header) `when` reads that a policy writes, and which policy. */
function policyWritten(
  when: CanaryWhen,
  writtenByPolicy: ReadonlyMap<string, string>,
): { label: string; policy: string } | undefined {
  const reads = when as { header?: Record<string, unknown>; cookie?: Record<string, unknown> };
  for (const name of Object.keys(reads.header ?? {})) {
    const policy = writtenByPolicy.get(name.toLowerCase());
    if (policy) return { label: `header ${name}`, policy };
  }
  const cookiePolicy = reads.cookie ? writtenByPolicy.get("cookie") : undefined;
  return cookiePolicy ? { label: "the cookie header", policy: cookiePolicy } : undefined;
}

function splitStep(
  route: NormalizedRoute,
  input: TrafficInput,
  writtenByPolicy: ReadonlyMap<string, string>,
): SplitStep {
  const config = route.split!;
  const weights = describeWeights(config);
  const ratio = config.targets.map((t) => t.weight).join("/");
  const inTurn = `weighted round-robin ${ratio} (next pick depends on traffic)`;
  if (config.sticky === null) {
    return { weights, mode: "round-robin", reason: `split ${weights}: ${inTurn}` };
  }
  const key = describeStickyKey(config.sticky);
  const sticky = config.sticky as { header?: string; cookie?: string };
  const writer = sticky.header !== undefined
    ? writtenByPolicy.get(sticky.header.toLowerCase())
    : sticky.cookie !== undefined
    ? writtenByPolicy.get("cookie")
    : undefined;
  const unknowable = "claim" in config.sticky && !input.knowsClaims
    ? "claims are verified by the route's jwt policy when a request arrives"
    : writer !== undefined
    ? `the route's ${writer} policy writes it when a request arrives`
    : "clientIp" in config.sticky && input.clientIp === undefined
    ? "explain does not know the client address"
    : undefined;
  if (unknowable !== undefined) {
    return {
      weights,
      mode: "sticky",
      key,
      reason: `split ${weights}, sticky by ${key}: ${unknowable}, so the side is decided per ` +
        `request (requests without it: ${inTurn})`,
    };
  }
  // The round-robin is never advanced here: only the sticky hash is used.
  const split = new TrafficSplit(
    config,
    new SmoothWeightedRoundRobin(config.targets.map((t) => t.weight)),
  );
  const value = split.keyOf(input);
  if (value === undefined) {
    return {
      weights,
      mode: "round-robin",
      key,
      reason: `split ${weights}, sticky by ${key}: the request has no ${key}, so ${inTurn}`,
    };
  }
  const upstream = config.targets[split.sideOf(value)].upstream;
  return {
    weights,
    mode: "sticky",
    key,
    value,
    upstream,
    reason: `split ${weights}, sticky by ${key}: ${JSON.stringify(value)} hashes to "${upstream}"` +
      ` → upstream "${upstream}"`,
  };
}

/** `canaries [header x-env → "v2", claim tier → "v2"], else split "v1" 95 / "v2" 5 ...` */
export function describeTraffic(route: NormalizedRoute): string {
  const fallback = route.split
    ? `split ${describeWeights(route.split)}${
      route.split.sticky ? ` sticky by ${describeStickyKey(route.split.sticky)}` : ""
    }`
    : `forward to upstream "${route.upstream}"`;
  if (!route.canary) return fallback;
  const rules = route.canary.map((rule) => {
    const color = rule.color !== null ? ` (color "${rule.color}")` : "";
    return `${new CanaryMatcher(rule).label()} → "${rule.upstream}"${color}`;
  });
  return `canaries [${rules.join(", ")}], else ${fallback}`;
}

/** The lines explain prints under the winning route, indented by the caller. */
export function formatTrafficExplanation(t: TrafficExplanation): string[] {
  const lines = t.canaries.map((c) => {
    const head = `${c.rule} ${c.condition} → upstream "${c.upstream}"`;
    const word = c.outcome === "matched" ? "MATCH" : c.outcome === "failed" ? "no" : "unknown";
    return `${head}: ${word} — ${c.reason}`;
  });
  lines.push(`traffic: ${t.decision}`);
  return lines;
}
