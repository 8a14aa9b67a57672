/**
 * Traffic mirroring around a route's terminal step: a share of requests is also sent to a
 * shadow upstream, fire-and-forget, and (with `diff`) the two answers are compared.
 *
 * The client's response never waits for the mirror. The primary request is sent first; the
 * copy goes out beside it and is only counted, compared and logged. A mirror takes one of the
 * route's `maxConcurrent` slots until the shadow's answer is read (when comparing, until both
 * answers are), and no longer than the shadow's answer timeout after the primary's response is
 * over (`mirror_lifetime.ts`). A request chosen while every slot is busy is not mirrored and
 * counts as dropped, so a slow or dead shadow costs a counter increment, never a queue.
 *
 * Request bodies: a body with a Content-Length of at most `maxBodyBytes` is read once into bytes
 * and both sides get those bytes. A larger body, one of unknown length (chunked), a WebSocket
 * upgrade, or a GET/HEAD with a body is not mirrored and counts as skipped: copying it would mean
 * buffering without bound or holding the primary back, and a partial copy would be a different
 * request.
 */
import type { NormalizedMirror } from "../config/normalized.ts";
import type { Terminal } from "../policies/chain.ts";
import { problem } from "../proxy/problem.ts";
import { generateRequestId } from "../proxy/request_id.ts";
import type { ProxyState } from "../proxy/state.ts";
import { UpstreamError } from "../upstream/client.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import { BodyDigest, isJsonContentType } from "./body_digest.ts";
import { admitToShadow, exchangeWithShadow, type ShadowSlot } from "./mirror_exchange.ts";
import type { MirrorRegistry, MirrorRouteState } from "./mirror_registry.ts";
import { MirrorLifetime } from "./mirror_lifetime.ts";
import { observeBody } from "./observed_body.ts";
import { headerMap, headersToMap, ResponseComparer, type ResponseFacts } from "./response_diff.ts";

/** How a mirror ended: the shadow's answer as compared facts, or why there is none. */
type ShadowOutcome = { facts: ResponseFacts | null } | { error: string };

/** One route's mirroring, compiled once per snapshot. */
export class RouteMirror {
  readonly state: MirrorRouteState;
  /** `null` when the route does not compare answers. */
  readonly comparer: ResponseComparer | null;
  /** The largest body mirrored: the route's limit, never above the gateway's own. */
  readonly bodyLimit: number;

  constructor(
    readonly route: string,
    readonly config: NormalizedMirror,
    readonly shadow: UpstreamRuntime,
    readonly registry: MirrorRegistry,
    gatewayBodyLimit: number,
  ) {
    this.state = registry.route(route);
    this.comparer = config.diff ? new ResponseComparer(config.diff) : null;
    this.bodyLimit = Math.min(config.maxBodyBytes, gatewayBodyLimit);
  }
}

/** Wraps `terminal` so that the route's share of requests is mirrored. */
export function withMirror(terminal: Terminal, mirror: RouteMirror): Terminal {
  const { state, config } = mirror;
  return (req, proxy) =>
    state.share.take(config.percent)
      ? mirrored(req, proxy, terminal, mirror)
      : terminal(req, proxy);
}

/** What to do with the request body: nothing to copy, read it into bytes, or do not mirror. */
type BodyPlan = "none" | "buffer" | "skip";

/**
 * Methods `new Request` refuses ("Method is forbidden") although `Deno.serve` accepts them. A
 * buffered body means rebuilding the primary's Request, so such a request with a body is not
 * mirrored: it is forwarded as it came.
 */
const UNBUILDABLE_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

function bodyPlan(req: Request, limit: number): BodyPlan {
  if (req.headers.get("upgrade")?.toLowerCase() === "websocket") return "skip";
  if (req.body === null) return "none";
  if (req.bodyUsed || req.method === "GET" || req.method === "HEAD") return "skip";
  if (UNBUILDABLE_METHODS.has(req.method.toUpperCase())) return "skip";
  const declared = req.headers.get("content-length");
  if (declared === null || Number(declared) > limit) return "skip";
  return "buffer";
}

async function mirrored(
  req: Request,
  proxy: ProxyState,
  terminal: Terminal,
  m: RouteMirror,
): Promise<Response> {
  const plan = bodyPlan(req, m.bodyLimit);
  if (plan === "skip" || m.registry.closed) {
    m.state.count("skipped");
    return terminal(req, proxy);
  }
  if (!m.state.tryAcquire(m.config.maxConcurrent)) {
    m.state.count("dropped");
    return terminal(req, proxy);
  }
  let body: Uint8Array<ArrayBuffer> | null = null;
  let primaryReq = req;
  if (plan === "buffer") {
    try {
      body = new Uint8Array(await req.arrayBuffer());
    } catch {
      m.state.release();
      m.state.count("skipped");
      return problem(400, "bad-request", "the request body ended early", proxy.requestId);
    }
    try {
      primaryReq = new Request(req.url, { method: req.method, headers: req.headers, body });
    } catch (error) {
      // Whatever refused it, the slot was taken: give it back, or each such request would
      // shrink the route's mirror capacity for good.
      m.state.release();
      m.state.count("skipped");
      throw error;
    }
  }
  // The shadow is asked only once the body is in hand. Its circuit breaker's admission may be
  // one of the few half-open probes, and the shadow is often the next version that real traffic
  // reaches too: taken before a slow client's upload, that probe would be held for as long as
  // the client takes, refusing everyone else's requests to that upstream with 503 meanwhile.
  const slot = admitToShadow(m.shadow, req, proxy);
  if (typeof slot === "string") {
    // The shadow is known to be failing: nothing is sent, so a dead shadow costs little.
    m.state.release();
    m.state.failed(slot, proxy.requestId, undefined);
    if (m.comparer) m.state.compared("error");
    return terminal(primaryReq, proxy);
  }
  const mirrorRequestId = generateRequestId();
  const lifetime = new MirrorLifetime(m.shadow.timeouts.totalMs);
  // The primary goes first; the mirror is started beside it and never awaited for the client.
  const primary = startTerminal(terminal, primaryReq, proxy);
  const shadow = runMirror(m, slot, req, proxy, body, mirrorRequestId, lifetime)
    .finally(() => lifetime.finished());
  m.registry.track(shadow, lifetime);
  const comparer = m.comparer;
  let res: Response;
  try {
    res = await primary;
  } catch (error) {
    lifetime.primaryOver();
    void shadow.then(() => comparer && m.state.compared("error")).finally(() => m.state.release());
    throw error;
  }
  // The primary's body is watched in every case: its end starts the mirror's last countdown.
  const observed = observePrimary(res, comparer, proxy.bytesOut, () => lifetime.primaryOver());
  if (comparer === null) {
    void shadow.finally(() => m.state.release());
    return observed.response;
  }
  // Comparing holds the slot until both answers are read, so the bodies kept for JSON field
  // stripping are bounded by maxConcurrent too, not by how slowly clients read.
  void Promise.all([observed.facts, shadow])
    .then(([primaryFacts, outcome]) =>
      settleDiff(m, comparer, req, proxy, mirrorRequestId, primaryFacts, outcome)
    )
    .catch(() => m.state.compared("error")) // a bug in comparing must not end the process
    .finally(() => m.state.release());
  return observed.response;
}

function startTerminal(terminal: Terminal, req: Request, proxy: ProxyState): Promise<Response> {
  try {
    return Promise.resolve(terminal(req, proxy));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Sends the mirror and reads its answer (the caller frees the slot). Never rejects. */
async function runMirror(
  m: RouteMirror,
  slot: ShadowSlot,
  req: Request,
  proxy: ProxyState,
  body: Uint8Array | null,
  mirrorRequestId: string,
  lifetime: MirrorLifetime,
): Promise<ShadowOutcome> {
  try {
    const res = await exchangeWithShadow(m.shadow, slot, {
      req,
      proxy,
      body,
      mirrorRequestId,
      signal: lifetime.signal,
    });
    m.state.count("sent");
    if (m.comparer === null) {
      await drain(res.body);
      return { facts: null };
    }
    const headers = headerMap(res.headers);
    const digest = digestFor(m.comparer, headers.get("content-type"), headers);
    await readInto(res.body, digest);
    return { facts: { status: res.status, headers, body: digest.finish() } };
  } catch (error) {
    const message = lifetime.cutShort
      ? (lifetime.signal.reason as Error).message
      : error instanceof UpstreamError
      ? `${error.kind}: ${error.message}`
      : error instanceof Error
      ? error.message
      : String(error);
    // Failing before an answer is a failed mirror; failing while reading the answer is not (it
    // was counted as sent), but it still leaves nothing to compare.
    if (error instanceof BodyReadError) {
      m.state.noteError(message, proxy.requestId, mirrorRequestId);
    } else m.state.failed(message, proxy.requestId, mirrorRequestId);
    return { error: message };
  }
}

class BodyReadError extends Error {
  constructor(cause: unknown) {
    super(`reading the shadow's body failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = "BodyReadError";
  }
}

/** Reads and discards a body, so that the connection can be reused. */
async function drain(body: ReadableStream<Uint8Array> | Uint8Array | null): Promise<void> {
  if (!(body instanceof ReadableStream)) return;
  try {
    for await (const _ of body);
  } catch (error) {
    throw new BodyReadError(error);
  }
}

async function readInto(
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  digest: BodyDigest,
): Promise<void> {
  if (body === null) return;
  if (body instanceof Uint8Array) return digest.update(body);
  try {
    for await (const chunk of body) digest.update(chunk);
  } catch (error) {
    throw new BodyReadError(error);
  }
}

function digestFor(
  comparer: ResponseComparer,
  contentType: string | null | undefined,
  headers: ReadonlyMap<string, string>,
): BodyDigest {
  const encoded = (headers.get("content-encoding") ?? "identity").toLowerCase() !== "identity";
  return new BodyDigest(comparer.jsonPaths, isJsonContentType(contentType) && !encoded);
}

/**
 * The client's response, its body passed through a watching stream (never buffered: pull-based,
 * no queue): `over` is called once the body has ended, been cancelled or failed. When comparing,
 * the body is also hashed on the way out (kept only up to the JSON capture limit), and `facts`
 * gives the primary's facts once the client has read it all (`null` if the body did not
 * complete: nothing can be compared then). Without a comparer, `facts` is always `null`.
 *
 * `knownLength` is the primary's body size when it arrived whole (forward records it). Its
 * response carries no Content-Length then, because Deno.serve writes one for a byte body; the
 * watching stream hides that size, so it is written here, or a mirrored route would answer
 * chunked (and close-delimited to HTTP/1.0 clients) where an unmirrored one does not.
 */
function observePrimary(
  res: Response,
  comparer: ResponseComparer | null,
  knownLength: number | undefined,
  over: () => void,
): { response: Response; facts: Promise<ResponseFacts | null> } {
  let responseHeaders = res.headers;
  if (res.body !== null && knownLength !== undefined && !responseHeaders.has("content-length")) {
    responseHeaders = new Headers(responseHeaders);
    responseHeaders.set("content-length", String(knownLength));
  }
  const headers = comparer ? headersToMap(responseHeaders) : undefined;
  const digest = comparer ? digestFor(comparer, headers!.get("content-type"), headers!) : null;
  // Never throws: a failure here must leave nothing to compare, not a promise that never
  // settles (it would hold the route's mirror slot for good).
  const facts = (): ResponseFacts | null => {
    if (digest === null) return null;
    try {
      return { status: res.status, headers: headers!, body: digest.finish() };
    } catch {
      return null;
    }
  };
  if (res.body === null) {
    over();
    return { response: res, facts: Promise.resolve(facts()) };
  }
  let settle!: (value: ResponseFacts | null) => void;
  const done = new Promise<ResponseFacts | null>((resolve) => settle = resolve);
  const body = observeBody(res.body, {
    chunk: digest ? (chunk) => digest.update(chunk) : () => {},
    end: () => {
      over();
      settle(facts());
    },
    abort: () => {
      over();
      settle(null);
    },
  });
  const response = new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: responseHeaders,
  });
  return { response, facts: done };
}

function settleDiff(
  m: RouteMirror,
  comparer: ResponseComparer,
  req: Request,
  proxy: ProxyState,
  mirrorRequestId: string,
  primary: ResponseFacts | null,
  shadow: ShadowOutcome,
): void {
  if (primary === null || "error" in shadow || shadow.facts === null) {
    m.state.compared("error");
    return;
  }
  const differences = comparer.compare(primary, shadow.facts);
  if (differences.length === 0) {
    m.state.compared("match");
    return;
  }
  m.state.mismatch({
    at: new Date().toISOString(),
    requestId: proxy.requestId,
    mirrorRequestId,
    method: req.method,
    path: proxy.upstreamPath,
    differences,
  });
}
