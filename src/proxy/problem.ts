/**
 * Gateway-made errors as RFC 9457 `application/problem+json`, always carrying the request id.
 * Details are written for the client: they never include stack traces or upstream internals.
 */

/** The problems Ferry answers with, by a stable type slug. */
export type ProblemType =
  | "no-route"
  | "bad-request"
  | "unauthorized"
  | "forbidden"
  | "auth-unavailable"
  | "payload-too-large"
  | "request-timeout"
  | "not-implemented"
  | "upstream-unreachable"
  | "upstream-timeout"
  | "upstream-protocol-error"
  | "no-healthy-target"
  | "circuit-open"
  | "fault-injected"
  | "internal-error";

const TITLES: Record<ProblemType, string> = {
  "no-route": "No route matches this request",
  "bad-request": "Bad request",
  unauthorized: "Authentication required",
  forbidden: "Forbidden",
  "auth-unavailable": "Authentication service unavailable",
  "payload-too-large": "Request body too large",
  "request-timeout": "Request body not received in time",
  "not-implemented": "Not implemented",
  "upstream-unreachable": "Upstream unreachable",
  "upstream-timeout": "Upstream timed out",
  "upstream-protocol-error": "Upstream sent an invalid response",
  "no-healthy-target": "No healthy upstream target",
  "circuit-open": "Upstream circuit open",
  "fault-injected": "Fault injected",
  "internal-error": "Internal gateway error",
};

/** Builds a problem response. `extra` members are added to the body (RFC 9457 extensions). */
export function problem(
  status: number,
  type: ProblemType,
  detail: string,
  requestId: string,
  headers?: Record<string, string>,
): Response {
  const body = JSON.stringify({
    type: `https://ferry.dev/problems/${type}`,
    title: TITLES[type],
    status,
    detail,
    requestId,
  });
  return new Response(body, {
    status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId, ...headers },
  });
}
