/**
 * One mirror exchange with the shadow upstream: pick a target, build the copy of the request,
 * send it through the shadow's circuit breaker and outlier detection (so a failing shadow is
 * left alone), and read its answer. No retries: a mirror is a sample, not a promise.
 *
 * The copy carries what the primary forwards (method, path after rewrites, headers after policy
 * edits, the same body bytes), with the shadow upstream's own Host rule, its own
 * `X-Request-Id` (the shadow's logs must not merge two requests under one id), and
 * `X-Ferry-Mirror: 1` plus `X-Ferry-Mirror-Of: <primary id>` so the shadow can tell a copy and
 * find its original.
 */
import { cookieValue } from "../proxy/cookies.ts";
import { outboundHeaders } from "../proxy/outbound_headers.ts";
import type { ProxyState } from "../proxy/state.ts";
import type { PickContext } from "../upstream/balancers/balancer.ts";
import { type InboundResponse, type OutboundRequest, UpstreamError } from "../upstream/client.ts";
import { type Admission, REFUSED } from "../upstream/resilience/circuit_breaker.ts";
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import { observeBody } from "./observed_body.ts";

/** Headers Ferry sets on mirrors; incoming copies are dropped so a client cannot forge them. */
const MIRROR_HEADERS = new Set(["x-ferry-mirror", "x-ferry-mirror-of"]);

/** A shadow target that may be sent to now, with the circuit breaker's admission. */
export interface ShadowSlot {
  target: Target;
  admission: Admission;
}

/**
 * Picks a shadow target and asks the shadow's circuit breaker, or says why the shadow cannot be
 * asked (no healthy target, circuit open). A plain string, not an exception: with the shadow
 * down this runs for every mirrored request, and building errors costs real CPU.
 */
export function admitToShadow(
  shadow: UpstreamRuntime,
  req: Request,
  proxy: ProxyState,
): ShadowSlot | string {
  // Hash keys as the primary's pick reads them: as the route's policies left the headers.
  const headers = proxy.requestHeaders ?? req.headers;
  const pick: PickContext = {
    clientIp: proxy.clientIp,
    header: (name) => headers.get(name),
    cookie: (name) => cookieValue(headers.get("cookie"), name),
  };
  const target = shadow.balancer.pick(pick);
  if (!target) return `upstream "${shadow.config.name}" has no healthy target`;
  const admission = shadow.resilience.admit(Date.now());
  if (admission === REFUSED) return `upstream "${shadow.config.name}" has its circuit open`;
  return { target, admission };
}

/** What the copy of one request needs. */
export interface MirrorCopy {
  req: Request;
  proxy: ProxyState;
  body: Uint8Array | null;
  mirrorRequestId: string;
  signal: AbortSignal;
}

/**
 * Sends the copy and resolves with the shadow's response head; rejects when it failed. The
 * circuit admission is settled exactly once on every path (answered, failed or released), and
 * the target stays counted in flight until the body ends, is cancelled or fails, as on the main
 * path: a least-request balancer on a shadow that also serves real traffic must see a mirror
 * still streaming its answer as busy.
 */
export async function exchangeWithShadow(
  shadow: UpstreamRuntime,
  slot: ShadowSlot,
  copy: MirrorCopy,
): Promise<InboundResponse> {
  const { target, admission } = slot;
  const resilience = shadow.resilience;
  let counted = false;
  try {
    // Inside the `try`: should building the copy ever throw, the admission (maybe the only
    // half-open probe permit) must still be given back, or the circuit refuses everyone.
    const request = outboundCopy(shadow, target, copy);
    target.inflight++;
    counted = true;
    const res = await shadow.client.send(target.address, request, shadow.timeouts);
    resilience.answered(target, Date.now(), admission, res.status);
    if (res.body instanceof ReadableStream) {
      const release = () => target.inflight--;
      res.body = observeBody(res.body, { chunk() {}, end: release, abort: release });
    } else target.inflight--;
    return res;
  } catch (error) {
    if (counted) target.inflight--;
    if (error instanceof UpstreamError && error.kind !== "aborted") {
      resilience.failed(target, Date.now(), admission, error.message);
    } else {
      // The gateway is closing, or the copy could not be built: nothing learnt about the shadow.
      resilience.released(admission);
    }
    throw error;
  }
}

function outboundCopy(shadow: UpstreamRuntime, target: Target, copy: MirrorCopy): OutboundRequest {
  const { proxy, body } = copy;
  const built = outboundHeaders(proxy.requestHeaders ?? copy.req.headers, {
    host: hostFor(shadow, target, proxy.authority),
    forwarded: proxy.forwarded,
    trustedPeer: proxy.trustedPeer,
    requestId: copy.mirrorRequestId,
  });
  const headers: string[] = [];
  for (let i = 0; i < built.length; i += 2) {
    if (!MIRROR_HEADERS.has(built[i])) headers.push(built[i], built[i + 1]);
  }
  headers.push("x-ferry-mirror", "1", "x-ferry-mirror-of", proxy.requestId);
  return {
    method: copy.req.method,
    path: proxy.upstreamPath,
    headers,
    body,
    bodyLength: body ? body.byteLength : -1,
    signal: copy.signal,
  };
}

/** The Host of the copy, by the shadow upstream's own `host` setting. */
function hostFor(shadow: UpstreamRuntime, target: Target, authority: string): string {
  const mode = shadow.config.host;
  if (mode === "preserve") return authority;
  if (mode === "target") return target.hostHeader;
  return mode;
}
