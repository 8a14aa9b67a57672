/**
 * `explain`: which route takes a request, and why each earlier route did not. It evaluates every
 * route in declared order (ignoring the index), so the answer is the reasoning a person would do.
 */
import {
  describeTraffic,
  explainTraffic,
  formatTrafficExplanation,
  type TrafficExplanation,
} from "../traffic/explain_traffic.ts";
import { hasTrafficDecision } from "../traffic/decision.ts";
import { headersWrittenPerRequest, inputAfterHeaderPolicies } from "./explain_policy_headers.ts";
import type { CompiledRoute, RouteTable } from "./route_table.ts";
import { type MatchInput, matchInput } from "./request_view.ts";
import { wireHeaders } from "./header_text.ts";

/** One route's verdict for a request. */
export interface RouteVerdict {
  index: number;
  name: string;
  matched: boolean;
  /** Why it did not match; empty when it matched. */
  reasons: string[];
}

/** The whole explanation: the verdicts up to and including the winner. */
export interface Explanation {
  request: { method: string; host: string; path: string; query: string };
  verdicts: RouteVerdict[];
  /** The route that takes the request, or `undefined` for a 404. */
  winner?: {
    index: number;
    name: string;
    params: Record<string, string>;
    action: string;
    /** Which canary rule or split side takes it, for routes with a traffic decision. */
    traffic?: TrafficExplanation;
  };
}

/** Explains how `table` routes `input`. */
export function explain(table: RouteTable, input: MatchInput): Explanation {
  const verdicts: RouteVerdict[] = [];
  const request = { method: input.method, host: input.host, path: input.path, query: input.query };
  for (const route of table.routes) {
    const reasons = failures(route, input);
    const { index, name } = route.config;
    verdicts.push({ index, name, matched: reasons.length === 0, reasons });
    if (reasons.length === 0) {
      const params = route.path.match(input.segments) ?? {};
      const winner: NonNullable<Explanation["winner"]> = {
        index,
        name,
        params,
        action: describeAction(route),
      };
      if (hasTrafficDecision(route.config)) {
        winner.traffic = explainTraffic(
          route.config,
          inputAfterHeaderPolicies(route.config, input),
          headersWrittenPerRequest(route.config),
        );
      }
      return { request, verdicts, winner };
    }
  }
  return { request, verdicts };
}

/**
 * Explains a request given as a method, a URL and headers (`gw.explain`). The URL must be
 * absolute: a bare path (`/users/7`) has no host, and reading it as a URL made its first segment
 * the host ("users") and explained a different request than the one typed, as a quiet 404.
 * Throws `TypeError` for such a URL instead.
 */
export function explainRequest(
  table: RouteTable,
  method: string,
  url: string,
  headers?: HeadersInit,
): Explanation {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || !URL.canParse(url)) {
    throw new TypeError(
      `explain needs an absolute URL such as "http://api.example.com/users/7", got ${
        JSON.stringify(url)
      }`,
    );
  }
  return explain(table, matchInput(method.toUpperCase(), url, wireHeaders(headers)));
}

function failures(route: CompiledRoute, input: MatchInput): string[] {
  const reasons: string[] = [];
  if (route.path.match(input.segments) === null) {
    reasons.push(
      `path "${input.path}" does not match "${route.path.source}": ${
        route.path.mismatch(input.segments)
      }`,
    );
  }
  for (const c of route.conditions) if (!c.test(input)) reasons.push(c.why(input));
  return reasons;
}

/**
 * `forward to upstream "api"`, `redirect 308 to ...`, `split "v1" 95 / "v2" 5`, canary rules,
 * plus the policies that will run.
 */
export function describeAction(route: CompiledRoute): string {
  const { upstream, redirect, use } = route.config;
  const action = redirect
    ? `redirect ${redirect.status} to ${redirect.to}`
    : hasTrafficDecision(route.config)
    ? describeTraffic(route.config)
    : `forward to upstream "${upstream}"`;
  if (!use.length) return action;
  const names = use.map((p) => p.ref ?? p.descriptor.kind);
  return `${action} after policies [${names.join(", ")}]`;
}

/** Renders an explanation as the text the CLI prints. */
export function formatExplanation(e: Explanation): string {
  const lines = [
    `${e.request.method} ${e.request.host}${e.request.path}${
      e.request.query ? "?" + e.request.query : ""
    }`,
  ];
  for (const v of e.verdicts) {
    const head = `  routes[${v.index}] ${v.name}:`;
    if (v.matched) lines.push(`${head} MATCH`);
    else lines.push(`${head} no — ${v.reasons.join("; ")}`);
  }
  if (e.winner) {
    const params = Object.keys(e.winner.params).length
      ? ` with params ${JSON.stringify(e.winner.params)}`
      : "";
    lines.push(`→ routes[${e.winner.index}] ${e.winner.name}${params}: ${e.winner.action}`);
    if (e.winner.traffic) {
      for (const line of formatTrafficExplanation(e.winner.traffic)) lines.push(`    ${line}`);
    }
  } else {
    lines.push("→ no route matches: the gateway answers 404");
  }
  return lines.join("\n");
}
