/**
 * How identity policies refuse a request: a 401 or 403 problem+json carrying the request id and
 * a `WWW-Authenticate` challenge where the scheme has one, counted in
 * `ferry_auth_failures_total{policy,reason}`. Details name what was wrong (expired, wrong
 * audience, unknown key) and never echo the credential.
 */
import { Counter } from "prom-client";
import type { PolicyEnv } from "../policies/policy.ts";
import { recordRejection } from "../observe/tracing.ts";
import { problem } from "../proxy/problem.ts";
import type { ProxyState } from "../proxy/state.ts";

/** Counts refusals; one per gateway, shared by every identity policy. */
export type AuthFailures = Counter<"policy" | "reason">;

/** The gateway's auth-failure counter. */
export function authFailures(env: PolicyEnv): AuthFailures {
  return env.shared("metric:ferry_auth_failures_total", () =>
    new Counter({
      name: "ferry_auth_failures_total",
      help: "Requests refused by identity policies, by policy kind and reason.",
      labelNames: ["policy", "reason"],
      registers: [env.metrics],
    }));
}

/** One refusal. */
export interface Refusal {
  status: 401 | 403;
  /** Bounded label for metrics, such as `expired` or `missing_credentials`. */
  reason: string;
  /** Human-readable and safe to show: never the credential itself. */
  detail: string;
  /** `WWW-Authenticate` value, when the scheme defines one. */
  challenge?: string;
}

/** Counts `refusal` under `policy` and builds its response. */
export function refuse(
  failures: AuthFailures,
  policy: string,
  state: ProxyState,
  refusal: Refusal,
): Response {
  failures.labels(policy, refusal.reason).inc();
  recordRejection(state, policy, refusal.reason, refusal.status);
  const headers: Record<string, string> = { "cache-control": "no-store" };
  if (refusal.challenge) headers["www-authenticate"] = refusal.challenge;
  return problem(
    refusal.status,
    refusal.status === 401 ? "unauthorized" : "forbidden",
    refusal.detail,
    state.requestId,
    headers,
  );
}
