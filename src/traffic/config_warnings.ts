/**
 * Warnings about traffic settings that are valid but will not do what they seem to: a claim
 * that no policy verifies, and a color header that no rule ever sets.
 */
import type { ConfigIssue, NormalizedRoute } from "../config/normalized.ts";

/** Policy kinds that leave verified claims on the request (`ProxyState.claims`). */
const CLAIM_POLICIES = new Set(["jwt"]);

/** Warnings for every route; `routes` are already valid. */
export function trafficWarnings(routes: readonly NormalizedRoute[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const warn = (path: string, message: string) =>
    issues.push({ path, message, severity: "warning" });
  for (const route of routes) {
    const at = `routes[${route.index}]`;
    const verifiesClaims = route.use.some((u) => CLAIM_POLICIES.has(u.descriptor.kind));
    if (!verifiesClaims) {
      route.canary?.forEach((rule, j) => {
        if (!("claim" in rule.when)) return;
        warn(
          `${at}.canary[${j}].when.claim`,
          `this route has no jwt policy, so requests carry no verified claims and the rule never ` +
            `matches (unless a custom policy sets them): add a jwt policy to ${at}.use`,
        );
      });
      if (route.split?.sticky && "claim" in route.split.sticky) {
        warn(
          `${at}.split.sticky.claim`,
          `this route has no jwt policy, so requests carry no verified claims and every request ` +
            `falls back to weighted round-robin (unless a custom policy sets them): add a jwt ` +
            `policy to ${at}.use`,
        );
      }
    }
    if (route.color && !route.canary?.some((rule) => rule.color !== null)) {
      warn(
        `${at}.color`,
        `no canary rule of this route sets a color, so "${route.color.header}" is only ever ` +
          `removed from requests: give a rule a color, or remove "color"`,
      );
    }
  }
  return issues;
}
