/**
 * The attempts of one forwarded request: the circuit breaker's admission, the exchange, its
 * judgement (outlier detection and circuit window), and retries on other targets with backoff,
 * within the retry budget and the total timeout.
 *
 * The first attempt's success path does only what it must: one admission check, one send, one
 * outcome record. Everything else runs when an attempt fails.
 */
import type { PickContext } from "../upstream/balancers/balancer.ts";
import {
  type ExchangeTimeouts,
  type InboundResponse,
  type OutboundRequest,
  UpstreamError,
  type UpstreamErrorKind,
} from "../upstream/client.ts";
import { type Admission, REFUSED } from "../upstream/resilience/circuit_breaker.ts";
import {
  backoffMs,
  failedToConnect,
  retriesError,
  retriesStatus,
} from "../upstream/resilience/retry_rules.ts";
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import type { ProxyState } from "./state.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import type { Tracing } from "../observe/tracing.ts";
import type { Span } from "@opentelemetry/api";

/** The circuit was open before the first attempt: answer 503 with `Retry-After`. */
export class CircuitOpen {
  constructor(readonly retryAfterSeconds: number) {}
}

/** The response to give the client, and the target that sent it. */
export class Answered {
  constructor(readonly response: InboundResponse, readonly target: Target) {}
}

/** The last attempt failed without a response. */
export class AttemptFailure {
  constructor(
    readonly error: unknown,
    /** Which deadline a timeout hit: the per-try one or the request's total. */
    readonly deadline: "per-try" | "total",
    readonly timeoutMs: number,
  ) {}
}

/**
 * Sends `request` to `first`, retrying up to `maxRetries` times on other targets. Resolves with
 * the response to give the client (possibly a retryable 5xx when retries ran out), or why there
 * is none. Rejects only with errors the caller maps itself (aborted client, body too large).
 */
export async function sendWithRetries(
  upstream: UpstreamRuntime,
  first: Target,
  request: OutboundRequest,
  maxRetries: number,
  pick: PickContext,
  state: ProxyState,
  /** Whether a failure was the client's doing (its body broke a limit), not the upstream's. */
  clientFault: () => boolean,
  observe: { tracing: Tracing; metrics: GatewayMetrics },
): Promise<Answered | CircuitOpen | AttemptFailure> {
  const { tracing } = observe;
  const upstreamName = upstream.config.name;
  const resilience = upstream.resilience;
  const rules = upstream.config.retries;
  const { totalMs, perTryMs } = upstream.config.timeouts;
  let now = Date.now();
  const deadline = now + totalMs;
  if (maxRetries > 0) resilience.budget.request(now);
  let admission: Admission = resilience.admit(now);
  if (admission === REFUSED) return new CircuitOpen(resilience.circuit!.retryAfterSeconds(now));

  let target = first;
  let timeouts: ExchangeTimeouts = upstream.timeouts;
  let tried: Set<Target> | undefined;
  for (let attempt = 0;; attempt++) {
    state.target = target.url;
    let res: InboundResponse | undefined;
    let error: unknown;
    let sent = request;
    let span: Span | undefined;
    // One clock reading each for the attempt's start and end, shared by its span and the
    // upstream-duration metric: each `performance.now()` is a call into Deno.
    const dispatched = performance.now();
    if (tracing.enabled) {
      span = tracing.startAttempt(`${request.method} ${upstreamName}`, state.span, dispatched);
      // Only a sampled span keeps attributes: an unsampled one (most, at a low sampling ratio)
      // skips building them.
      if (span.isRecording()) {
        span.setAttributes({
          "http.request.method": request.method,
          "server.address": target.address.hostname,
          "server.port": target.address.port,
          "url.full": `${target.address.origin}${request.path}`,
          "ferry.upstream": upstreamName,
          "ferry.attempt": attempt + 1,
        });
      }
      sent = { ...request, headers: tracing.inject(request.headers, span) };
    }
    target.inflight++;
    try {
      res = await upstream.client.send(target.address, sent, timeouts);
    } catch (e) {
      error = e;
    }
    // A streamed body keeps its target busy until it ends (the forwarder releases it then):
    // least-request balancing must count long streams (SSE, downloads), not only the wait for
    // the response head.
    if (!(res?.body instanceof ReadableStream)) target.inflight--;
    const answered = performance.now();
    const tookMs = answered - dispatched;
    state.upstreamMs = tookMs;
    (target.durationSeries ??= observe.metrics.upstreamDuration.series(upstreamName, target.url))
      .observe(tookMs / 1000);
    if (span) {
      tracing.endAttempt(
        span,
        answered,
        res?.status,
        error instanceof UpstreamError ? error.kind : error ? "error" : undefined,
      );
    }
    now = Date.now();

    // Judge the attempt, and stop unless it failed in a way worth retrying.
    if (res !== undefined) {
      resilience.answered(target, now, admission, res.status);
      if (res.status < 500 || attempt >= maxRetries || !retriesStatus(rules, res.status)) {
        return new Answered(res, target);
      }
    } else {
      const kind = error instanceof UpstreamError ? error.kind : undefined;
      if (
        kind === undefined || kind === "aborted" || kind === "request_timeout" || clientFault()
      ) {
        // The client went away, or its body broke or stalled: nothing to learn about the upstream.
        resilience.released(admission);
        throw error;
      }
      resilience.failed(target, now, admission, error instanceof Error ? error.message : kind);
      const limit = maxRetries > 0
        ? maxRetries
        : unsentRequestRetries(upstream, request, kind, attempt, now);
      if (attempt >= limit || !retriesError(rules, kind)) {
        return failure(error, timeouts, upstream);
      }
    }

    // A retry is wanted: it needs budget, time, another target and the circuit's admission.
    const next = await prepareRetry(upstream, target, attempt, deadline, pick, tried ??= new Set());
    if (next === undefined) return answerOr(res, target, error, timeouts, upstream);
    admission = resilience.admit(Date.now());
    if (admission === REFUSED) return answerOr(res, target, error, timeouts, upstream);
    if (res?.body instanceof ReadableStream) {
      target.inflight--;
      await res.body.cancel();
    }
    resilience.retrying();
    target = next;
    const left = deadline - Date.now();
    timeouts = {
      connectMs: timeouts.connectMs,
      totalMs: Math.max(1, Math.min(perTryMs, left)),
      idleMs: timeouts.idleMs,
    };
  }
}

/**
 * The retries of a request given none (a non-idempotent method on a route without
 * `retryNonIdempotent`, or a body that streams because it is larger than
 * `maxBufferedBodyBytes` or chunked), when an attempt failed to connect (refused, connect
 * timeout, TLS handshake): nothing of it was sent, so it cannot arrive twice, and the next target
 * can still take it whole. A streamed body must be unread: the exchange takes a reader of it only
 * once connected, so an unlocked stream is provably untouched. nginx (`proxy_next_upstream
 * error`) and Envoy (`connect-failure`) retry these for every method too. Asked again on each
 * failure: once an attempt connected, its request is spoken for and nothing more is retried. The
 * request joins the retry budget's count at its first failure (it was left out when it had no
 * retries). Runs on the failure path only.
 */
function unsentRequestRetries(
  upstream: UpstreamRuntime,
  request: OutboundRequest,
  kind: UpstreamErrorKind,
  attempt: number,
  now: number,
): number {
  if (!failedToConnect(kind)) return 0;
  const body = request.body;
  if (body instanceof ReadableStream && body.locked) return 0;
  const retries = upstream.config.retries.maxRetries;
  if (retries > 0 && attempt === 0) upstream.resilience.budget.request(now);
  return retries;
}

/**
 * Spends a retry: checks the deadline and the budget, picks a target not tried yet (once all
 * were, starts a new round that avoids the one that just failed; the same one only when no
 * other is healthy), and waits the backoff. `undefined` means "do not retry".
 */
async function prepareRetry(
  upstream: UpstreamRuntime,
  failed: Target,
  attempt: number,
  deadline: number,
  pick: PickContext,
  tried: Set<Target>,
): Promise<Target | undefined> {
  const resilience = upstream.resilience;
  const now = Date.now();
  const wait = backoffMs(upstream.config.retries, attempt);
  // A retry that cannot get a response before the deadline only adds load.
  if (now + wait >= deadline) return undefined;
  if (!resilience.budget.tryRetry(now)) {
    resilience.budgetExhausted();
    return undefined;
  }
  tried.add(failed);
  if (tried.size > 1 && everyHealthyTried(upstream.targets, tried)) {
    // A new round over the targets. Balancers repeat an excluded target only when nothing else
    // is left, and then pick among all of them: round-robin went straight back to the target
    // whose attempt had just failed (a, b, b), never to the one that failed a round earlier.
    tried.clear();
    tried.add(failed);
  }
  const next = upstream.balancer.pick(pick, tried);
  if (next === undefined) return undefined;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return next;
}

/** Whether every healthy target is in `tried`: one O(n) pass, on the retry path only. */
function everyHealthyTried(targets: readonly Target[], tried: ReadonlySet<Target>): boolean {
  for (const target of targets) {
    if (target.healthy && !tried.has(target)) return false;
  }
  return true;
}

/** The response we have, when an attempt answered, else the failure. */
function answerOr(
  res: InboundResponse | undefined,
  target: Target,
  error: unknown,
  timeouts: ExchangeTimeouts,
  upstream: UpstreamRuntime,
): Answered | AttemptFailure {
  return res ? new Answered(res, target) : failure(error, timeouts, upstream);
}

function failure(
  error: unknown,
  timeouts: ExchangeTimeouts,
  upstream: UpstreamRuntime,
): AttemptFailure {
  const { perTryMs, totalMs } = upstream.config.timeouts;
  // An attempt given less than the per-try time was cut short by the total deadline.
  const byTotal = timeouts.totalMs < perTryMs || perTryMs === totalMs;
  return new AttemptFailure(error, byTotal ? "total" : "per-try", byTotal ? totalMs : perTryMs);
}
