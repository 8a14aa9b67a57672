/**
 * The forwarding path of one request, top to bottom: pick a target, build the outbound request,
 * send it, and turn the answer (or the failure) into the client's response.
 */
import type { PickContext } from "../upstream/balancers/balancer.ts";
import { type OutboundRequest, UpstreamError } from "../upstream/client.ts";
import { mayRetryMethod } from "../upstream/resilience/retry_rules.ts";
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import { AttemptFailure, CircuitOpen, sendWithRetries } from "./attempts.ts";
import { BodyTooLargeError, limitBody } from "./body_limit.ts";
import { clientResponse } from "./client_response.ts";
import { cookieValue } from "./cookies.ts";
import { outboundHeaders } from "./outbound_headers.ts";
import { problem } from "./problem.ts";
import type { LiveConnections } from "./live.ts";
import type { Logger } from "../observe/logger.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import type { Tracing } from "../observe/tracing.ts";
import type { ProxyState } from "./state.ts";
import { bridgeWebSocket } from "./websocket.ts";

/** What forwarding needs from its gateway. */
export interface ForwardEnv {
  readonly maxBodyBytes: number;
  readonly live: LiveConnections;
  readonly tracing: Tracing;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

/** Forwards to `upstream` and returns the client's response. Never throws. */
export async function forward(
  req: Request,
  state: ProxyState,
  upstream: UpstreamRuntime,
  env: ForwardEnv,
): Promise<Response> {
  const { maxBodyBytes } = env;
  const pick = new RequestPick(req, state);
  const target = upstream.balancer.pick(pick);
  if (!target) {
    return problem(
      503,
      "no-healthy-target",
      `upstream "${upstream.config.name}" has no healthy target`,
      state.requestId,
      { "retry-after": "1" },
    );
  }
  state.target = target.url;
  state.upstream = upstream.config.name;
  const websocket = req.headers.get("upgrade")?.toLowerCase() === "websocket";
  const headers = outboundHeaders(state.requestHeaders ?? req.headers, {
    host: hostHeader(upstream, target, state.authority),
    forwarded: state.forwarded,
    trustedPeer: state.trustedPeer,
    policyClaims: state.policyClaims,
    requestId: state.requestId,
    websocket,
  });
  if (websocket) {
    return bridgeWebSocket(req, target, state.upstreamPath, headers, upstream, state, env.live);
  }

  let maxRetries = mayRetryMethod(req.method, state.match.route.config.retryNonIdempotent)
    ? upstream.config.retries.maxRetries
    : 0;
  let body: OutboundRequest["body"] = null;
  let bodyLength = -1;
  let exceeded = () => false;
  if (req.body) {
    const declared = req.headers.get("content-length");
    if (declared !== null) {
      bodyLength = Number(declared);
      if (bodyLength > maxBodyBytes) return tooLarge(state, maxBodyBytes);
      if (maxRetries > 0 && bodyLength <= upstream.config.retries.maxBufferedBodyBytes) {
        // Small enough to keep: buffered once, it can be sent again on a retry.
        try {
          body = new Uint8Array(await req.arrayBuffer());
        } catch {
          return problem(400, "bad-request", "the request body ended early", state.requestId);
        }
      } else {
        body = req.body;
        maxRetries = 0;
      }
    } else {
      const limited = limitBody(req.body, maxBodyBytes);
      body = limited.stream;
      exceeded = limited.exceeded;
      maxRetries = 0; // a stream of unknown length cannot be replayed
    }
  }

  const request: OutboundRequest = {
    method: req.method,
    path: state.upstreamPath,
    headers,
    body,
    bodyLength,
    // No `req.signal`: reading it makes Deno build an abort reason with a stack trace on every
    // completed response (7.5% of CPU when measured). A client that goes away cancels the
    // response body, and one that drops mid-upload errors the body stream the client reads.
  };
  let outcome;
  try {
    outcome = await sendWithRetries(
      upstream,
      target,
      request,
      maxRetries,
      pick,
      state,
      exceeded,
      env,
    );
  } catch (error) {
    if (exceeded() || error instanceof BodyTooLargeError) return tooLarge(state, maxBodyBytes);
    state.upstreamError = failureReason(error);
    if (error instanceof TypeError) return unsendable(upstream, state.requestId);
    return upstreamFailure(error, upstream, state.requestId);
  }
  if (outcome instanceof CircuitOpen) {
    return problem(
      503,
      "circuit-open",
      `upstream "${upstream.config.name}" is failing; its circuit breaker is open`,
      state.requestId,
      { "retry-after": String(outcome.retryAfterSeconds) },
    );
  }
  if (outcome instanceof AttemptFailure) {
    if (exceeded() || outcome.error instanceof BodyTooLargeError) {
      return tooLarge(state, maxBodyBytes);
    }
    state.upstreamError = failureReason(outcome.error);
    return upstreamFailure(outcome.error, upstream, state.requestId, outcome);
  }
  const { response: res, target: served } = outcome;
  const routeName = state.match.route.config.name;
  if (res.body instanceof ReadableStream) {
    // Streams outlive this call; tracking them lets a reload end those of changed routes,
    // counts their bytes as they pass, and keeps the target counted busy until they end.
    res.body = env.live.trackStream(
      routeName,
      res.body,
      env.metrics.route(routeName).bytesOut,
      () => served.inflight--,
      (error) => bodyBrokeOff(error, env.logger, state, served.url),
      isEventStream(res.headers),
    );
  }
  const out = clientResponse(res, state.requestId);
  if (out) {
    // A status without content (204, 205, 304) goes out bodiless whatever followed its head:
    // a stream nobody reads must be cancelled, or it keeps its target counted busy and its
    // upstream connection open (the HTTP/1.1 client frames a 205's body like any other). Only
    // bytes that go out count as bytes out.
    if (out.body === null) {
      if (res.body instanceof ReadableStream) await res.body.cancel();
    } else if (res.body instanceof Uint8Array) state.bytesOut = res.body.byteLength;
    return out;
  }
  if (res.body && !(res.body instanceof Uint8Array)) await res.body.cancel();
  return problem(
    502,
    "upstream-protocol-error",
    `upstream answered with invalid status ${res.status}`,
    state.requestId,
  );
}

/**
 * An upstream body that failed after the response head went out: the client's body is failed
 * too (the connection is cut, so a truncated answer is never taken for a whole one), and the
 * gateway logs why. Deno.serve prints whatever a response body fails with to stderr, which for
 * an error is its stack trace, lines a JSON log collector cannot parse. So the client's body
 * fails with one plain line naming the request, and the details go to Ferry's structured log.
 */
function bodyBrokeOff(error: unknown, logger: Logger, state: ProxyState, target: string): string {
  const reason = error instanceof Error ? error.message : String(error);
  logger.log("warn", "upstream response body broke off; the client's response was cut short", {
    requestId: state.requestId,
    route: state.match.route.config.name,
    upstream: state.upstream,
    target,
    reason,
    ...(error instanceof UpstreamError ? { kind: error.kind } : {}),
  });
  return `ferry: request ${state.requestId}: upstream response body broke off (${reason})`;
}

/**
 * Whether the response is Server-Sent Events, which a reload may end cleanly (the client
 * reconnects); other streams it ends must be cut, or they read as whole when truncated.
 */
function isEventStream(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === "content-type") {
      return headers[i + 1].trimStart().toLowerCase().startsWith("text/event-stream");
    }
  }
  return false;
}

function tooLarge(state: ProxyState, limit: number): Response {
  return problem(
    413,
    "payload-too-large",
    `request body is larger than the ${limit}-byte limit`,
    state.requestId,
    { connection: "close" },
  );
}

/**
 * The client refuses a request it cannot put on the wire (a policy set a path with a space, or
 * one not `/`-rooted) with a `TypeError`, before sending a byte: the gateway's own fault, a 500
 * as for any other, not the upstream's. The reason (it may quote the path) goes to the access
 * log only.
 */
function unsendable(upstream: UpstreamRuntime, id: string): Response {
  return problem(
    500,
    "internal-error",
    `the gateway could not build a valid request for upstream "${upstream.config.name}"`,
    id,
  );
}

/** Maps a failed exchange to 502/504 problems; unexpected errors become a 502 too. */
export function upstreamFailure(
  error: unknown,
  upstream: UpstreamRuntime,
  id: string,
  timedOut?: { deadline: "per-try" | "total"; timeoutMs: number },
): Response {
  const name = upstream.config.name;
  if (error instanceof UpstreamError) {
    switch (error.kind) {
      case "connect_timeout":
        return problem(504, "upstream-timeout", `connecting to upstream "${name}" timed out`, id);
      case "timeout": {
        const ms = timedOut?.timeoutMs ?? upstream.config.timeouts.totalMs;
        const which = timedOut?.deadline === "per-try" ? "per-try timeout" : "total timeout";
        return problem(
          504,
          "upstream-timeout",
          `upstream "${name}" did not answer within the ${ms}ms ${which}`,
          id,
        );
      }
      case "protocol":
        return problem(502, "upstream-protocol-error", `upstream "${name}": ${error.message}`, id);
      case "request_timeout":
        // As nginx's client_body_timeout: the client stopped sending its body.
        return problem(408, "request-timeout", error.message, id, { connection: "close" });
      case "aborted":
        // The client went away; nobody reads this, but metrics and logs record a 499.
        return problem(499 as number, "bad-request", "client closed the request", id);
      default:
        return problem(502, "upstream-unreachable", `upstream "${name}" is unreachable`, id);
    }
  }
  return problem(502, "upstream-unreachable", `upstream "${name}" failed`, id);
}

/**
 * Why the last attempt failed, for the access log: the client's problem says only "unreachable"
 * (the reason may name internal hosts or certificates), the operator needs the reason itself.
 */
function failureReason(error: unknown): string {
  if (error instanceof UpstreamError) return `${error.kind}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function hostHeader(upstream: UpstreamRuntime, target: Target, authority: string): string {
  const mode = upstream.config.host;
  if (mode === "preserve") return authority;
  if (mode === "target") return target.hostHeader;
  return mode;
}

/** What balancers may read about the request; a class so building one allocates no closures. */
class RequestPick implements PickContext {
  constructor(private readonly req: Request, private readonly state: ProxyState) {}
  get clientIp(): string {
    return this.state.clientIp;
  }
  /**
   * Keys are read from the request as it goes upstream: a value a policy set (a `headers`
   * policy's tenant, jwt `claimsToHeaders`) is the one to hash on, as Envoy hashes after its
   * filters, and a client's copy such a policy removed must not steer the pick.
   */
  header(name: string): string | null {
    return this.#headers().get(name);
  }
  cookie(name: string): string | undefined {
    return cookieValue(this.#headers().get("cookie"), name);
  }
  #headers(): Headers {
    return this.state.requestHeaders ?? this.req.headers;
  }
}
