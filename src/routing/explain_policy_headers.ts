/**
 * What a route's policies do to the request headers `explain` reads for a traffic decision:
 * the edits of its `headers` policies (plain data, applied as the gateway would), and the
 * headers other policies write per request, whose values explain cannot know.
 */
import { explainedInput, type TrafficInput } from "../traffic/traffic_input.ts";
import { cookieValue } from "../proxy/cookies.ts";
import type { HeaderRules } from "../config/types.ts";
import type { HeadersOptions } from "../policies/headers.ts";
import type { NormalizedRoute } from "../config/normalized.ts";
import type { MatchInput } from "./request_view.ts";

/**
 * What the route's traffic decision reads: the request headers as its `headers` policies leave
 * them. Canary rules and sticky keys see headers after the policy chain, so a policy that sets
 * or removes the header a rule routes on decides the canary; explain runs no policies, but these
 * edits are plain data, so it applies them (in order, as `Headers` would) instead of naming the
 * upstream the request would have taken without them.
 */
export function inputAfterHeaderPolicies(route: NormalizedRoute, input: MatchInput): TrafficInput {
  const edits: HeaderRules[] = [];
  for (const { descriptor } of route.use) {
    const request = descriptor.kind === "headers"
      ? (descriptor.options as HeadersOptions).request
      : undefined;
    if (request) edits.push(request);
  }
  const plain = explainedInput(input);
  if (!edits.length) return plain;
  const header = (name: string): string | null => {
    const lower = name.toLowerCase();
    const named = (rules: Record<string, string> | undefined) =>
      Object.entries(rules ?? {}).filter(([k]) => k.toLowerCase() === lower)
        .map(([, v]) => v.replace(/^[\t ]+|[\t ]+$/g, ""));
    let value = input.header(name);
    for (const r of edits) {
      if (r.remove?.some((h) => h.toLowerCase() === lower)) value = null;
      for (const v of named(r.set)) value = v;
      for (const v of named(r.add)) value = value === null ? v : `${value}, ${v}`;
    }
    return value;
  };
  return { ...plain, header, cookie: (name) => cookieValue(header("cookie"), name) };
}

/**
 * Request headers a policy of the route writes from what it learns per request (the API key's
 * consumer, the token's claims, the auth service's answer), lower-case, each with the policy's
 * kind. Explain cannot know those values, and the client's copy is replaced, so rules reading
 * them are undecided. A later `headers` policy that sets or removes one makes it known again.
 */
export function headersWrittenPerRequest(route: NormalizedRoute): Map<string, string> {
  const written = new Map<string, string>();
  for (const { descriptor } of route.use) {
    const { kind } = descriptor;
    const o = descriptor.options as Record<string, unknown> | undefined;
    const names: unknown[] = kind === "apiKey"
      ? [o?.consumerHeader]
      : kind === "jwt"
      ? Object.values((o?.claimsToHeaders ?? {}) as Record<string, unknown>)
      : kind === "forwardAuth"
      ? [...((o?.responseHeaders ?? []) as unknown[]), o?.subjectHeader]
      : [];
    for (const name of names) if (typeof name === "string") written.set(name.toLowerCase(), kind);
    if (kind === "headers") {
      const request = (o as HeadersOptions | undefined)?.request;
      for (const name of [...Object.keys(request?.set ?? {}), ...(request?.remove ?? [])]) {
        written.delete(name.toLowerCase());
      }
    }
  }
  return written;
}
