/**
 * WebSocket pass-through: upgrade to the upstream first, with the client's own request headers
 * (so its chosen subprotocol can be offered to the client), then upgrade the client and relay
 * messages both ways until either side closes, carrying the close code and reason across.
 */
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import { REFUSED } from "../upstream/resilience/circuit_breaker.ts";
import type { LiveConnections, LiveEntry } from "./live.ts";
import { problem } from "./problem.ts";
import { sendableCloseCode, UpstreamWebSocket, WebSocketUpgradeError } from "./ws_upstream.ts";
import type { ProxyState } from "./state.ts";

/**
 * Bytes the client side may have waiting before the upstream is no longer read. Large enough
 * that a client keeping up never pauses the upstream, small next to the 16 MiB message bound.
 */
export const CLIENT_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * How often a paused bridge looks at the client's backlog again: Deno's server WebSocket has no
 * drain event, only `bufferedAmount`.
 */
const DRAIN_POLL_MS = 10;

/** Settles once `socket` has at most the high-water mark buffered, or is no longer open. */
function drained(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (
        socket.readyState !== WebSocket.OPEN || socket.bufferedAmount <= CLIENT_HIGH_WATER_BYTES
      ) {
        clearInterval(timer);
        resolve();
      }
    }, DRAIN_POLL_MS);
  });
}

// 1005 (no code) is never sent on the wire. An upstream that vanished (1006) is reported to the
// client as 1011, and so are codes no endpoint may send. Not 1014 ("bad gateway", registered
// after RFC 6455): some clients, Deno's own among them, refuse it and report a broken
// connection with no code at all.
function wireCode(code: number): number | undefined {
  if (code === 1005) return undefined;
  return sendableCloseCode(code) ? code : 1011;
}

/**
 * Why `req` is not a WebSocket handshake the gateway can complete with the client (RFC 6455
 * §4.2.1), or undefined when it is. `Deno.upgradeWebSocket` throws for these, and checked only
 * there, after the upstream had already upgraded, they were a 500 that stranded the upstream
 * socket.
 */
function handshakeProblem(req: Request): { status: number; detail: string } | undefined {
  if (req.method !== "GET") {
    return { status: 400, detail: `a WebSocket upgrade must be a GET, not ${req.method}` };
  }
  const connection = (req.headers.get("connection") ?? "").toLowerCase().split(",");
  if (!connection.some((token) => token.trim() === "upgrade")) {
    return { status: 400, detail: "a WebSocket upgrade needs Connection: Upgrade" };
  }
  if (!req.headers.get("sec-websocket-key")) {
    return { status: 400, detail: "a WebSocket upgrade needs a Sec-WebSocket-Key" };
  }
  // §4.2.2: a version the server does not speak is answered 426 with the one it does.
  if (req.headers.get("sec-websocket-version")?.trim() !== "13") {
    return { status: 426, detail: "only WebSocket version 13 is supported" };
  }
  return undefined;
}

/**
 * Requests handed to a gateway's `fetch` in-process, over no listener's connection. Deno upgrades
 * such a Request without complaint, to a socket nothing is on the other end of: the bridge
 * connected to the upstream, answered a 101 the caller could do nothing with, and held the
 * upstream socket until the gateway closed. Weak: the mark goes with the Request.
 */
const listenerless = new WeakSet<Request>();

/**
 * Marks `req` as handled in-process, with no client connection behind it: a WebSocket upgrade
 * among such requests is answered 501 instead of being bridged.
 */
export function markInProcess(req: Request): void {
  listenerless.add(req);
}

/**
 * Bridges the request's WebSocket to `target`; answers 400 (426 for a version other than 13)
 * when the client's handshake is malformed, 503 while the upstream's circuit is open, and 502
 * when the upstream refuses. A request marked with {@link markInProcess} has no connection to
 * upgrade: 501, and the upstream is not contacted (one WeakSet lookup per upgrade).
 *
 * The upgrade is one attempt for the upstream's resilience, like an HTTP request's: admitted by
 * the circuit breaker, and judged by it and outlier detection when the upgrade ends (a 101 is a
 * success, a refusal, timeout or 5xx a failure). Without that, a failing upstream kept taking
 * upgrades while its circuit was open, and a half-open probe upgrade never closed the circuit.
 */
export async function bridgeWebSocket(
  req: Request,
  target: Target,
  path: string,
  headers: string[],
  upstream: UpstreamRuntime,
  state: ProxyState,
  live: LiveConnections,
): Promise<Response> {
  const bad = handshakeProblem(req);
  if (bad) {
    return problem(
      bad.status,
      "bad-request",
      bad.detail,
      state.requestId,
      bad.status === 426 ? { "sec-websocket-version": "13", "upgrade": "websocket" } : undefined,
    );
  }
  if (listenerless.has(req)) {
    return problem(
      501,
      "not-implemented",
      "WebSocket upgrades need a listener: use startGateway",
      state.requestId,
    );
  }
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",").map((p) => p.trim()).filter(Boolean);
  const resilience = upstream.resilience;
  const now = Date.now();
  const admission = resilience.admit(now);
  if (admission === REFUSED) {
    return problem(
      503,
      "circuit-open",
      `upstream "${upstream.config.name}" is failing; its circuit breaker is open`,
      state.requestId,
      { "retry-after": String(resilience.circuit!.retryAfterSeconds(now)) },
    );
  }
  let up: UpstreamWebSocket;
  try {
    up = await UpstreamWebSocket.connect(
      target.address,
      path,
      headers,
      protocols,
      upstream.timeouts.connectMs,
      upstream.timeouts.idleMs,
      upstream.config.tls,
    );
  } catch (e) {
    // Every way out of `connect` is an outcome for the upstream (no client abort reaches it):
    // an answer other than 101 is judged by its status, anything else is a failure.
    const status = e instanceof WebSocketUpgradeError ? e.status : undefined;
    if (status !== undefined) resilience.answered(target, Date.now(), admission, status);
    else resilience.failed(target, Date.now(), admission, (e as Error).message);
    return problem(
      502,
      "upstream-unreachable",
      `upstream "${upstream.config.name}" refused the WebSocket${
        e instanceof WebSocketUpgradeError ? `: ${e.message}` : ""
      }`,
      state.requestId,
    );
  }

  // The upstream upgraded: a success, recorded once, whatever the client side does next.
  resilience.answered(target, Date.now(), admission, 101);

  let upgraded: { socket: WebSocket; response: Response };
  try {
    upgraded = Deno.upgradeWebSocket(req, { protocol: up.protocol || undefined });
  } catch (e) {
    // Whatever else Deno refuses to upgrade: the upstream side is already open, drop it.
    up.abort();
    return problem(
      400,
      "bad-request",
      `not a WebSocket handshake: ${(e as Error).message}`,
      state.requestId,
    );
  }
  const { socket: down, response } = upgraded;
  down.binaryType = "arraybuffer";
  // Frames from the upstream can arrive before the client side is open: hold them until then,
  // and its close too (a server that greets and hangs up at once must still be heard).
  const pending: (string | Uint8Array)[] = [];
  let upClose: { code: number | undefined; reason: string } | undefined;
  let closeOnOpen: { code: number; reason: string } | undefined;
  const bridge: LiveEntry = {
    routeName: state.match.route.config.name,
    kind: "websocket",
    close(code, reason) {
      // Closing a server socket that is still CONNECTING leaves Deno's side stuck in CLOSING
      // and the client open: the close waits for `onopen` instead.
      if (down.readyState === WebSocket.OPEN) down.close(code, reason);
      else if (down.readyState === WebSocket.CONNECTING) closeOnOpen ??= { code, reason };
      up.close(code, reason);
    },
  };
  live.add(bridge);
  // The bridge keeps its target counted busy for least-request balancing until it ends.
  target.inflight++;
  let ended = false;
  const end = () => {
    live.delete(bridge);
    if (!ended) target.inflight--;
    ended = true;
  };
  const finish = () => {
    if (down.readyState === WebSocket.CLOSED && upClose) end();
  };
  // Backpressure towards the upstream: while the client has more than the high-water mark
  // waiting to be sent (or, before it opens, held for it), the upstream is not read, so TCP
  // slows the upstream down instead of the gateway buffering a slow client's backlog.
  let pendingBytes = 0;
  let opened: PromiseWithResolvers<void> | undefined;
  up.onmessage = (data) => {
    // A bridge given up on (its client never opened) holds nothing more for it.
    if (ended) return;
    if (down.readyState === WebSocket.OPEN) {
      down.send(data as string | Uint8Array<ArrayBuffer>);
      if (down.bufferedAmount > CLIENT_HIGH_WATER_BYTES) return drained(down);
    } else if (down.readyState === WebSocket.CONNECTING) {
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes > CLIENT_HIGH_WATER_BYTES) {
        return (opened ??= Promise.withResolvers()).promise;
      }
    }
  };
  up.onclose = (code, reason) => {
    upClose = { code: wireCode(code), reason };
    if (down.readyState === WebSocket.OPEN) down.close(upClose.code, reason);
    finish();
  };
  // A client that hung up while the upstream was accepting never opens, and Deno reports
  // nothing for it (no close, no abort): give it as long as the upstream had to connect, then
  // release the upstream connection and the entry.
  const openTimer = setTimeout(() => {
    if (down.readyState !== WebSocket.CONNECTING) return;
    pending.length = 0;
    opened?.resolve();
    end();
    up.close(1001, "client went away");
  }, upstream.timeouts.connectMs);
  down.onopen = () => {
    clearTimeout(openTimer);
    for (const m of pending.splice(0)) down.send(m as string | Uint8Array<ArrayBuffer>);
    // Resumes reading the upstream; `onmessage` pauses it again if the client is backed up.
    opened?.resolve();
    const close = closeOnOpen ?? upClose;
    if (close) down.close(close.code, close.reason);
  };
  down.onmessage = (e) => up.send(e.data);
  // Any code the client used (1001 going away, 1008 policy...) reaches the upstream as sent.
  down.onclose = (e) => {
    clearTimeout(openTimer);
    pending.length = 0; // a client that never opened gets nothing held for it
    opened?.resolve();
    up.close(e.code === 1005 || e.code === 1006 ? 1000 : e.code, e.reason);
    finish();
  };
  down.onerror = () => {};
  up.start();
  return response;
}
