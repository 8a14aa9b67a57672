/**
 * WebSocket pass-through: upgrade to the upstream first, with the client's own request headers
 * (so its chosen subprotocol can be offered to the client), then upgrade the client and relay
 * messages both ways until either side closes, carrying the close code and reason across.
 */
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import type { LiveConnections, LiveEntry } from "./live.ts";
import { problem } from "./problem.ts";
import { UpstreamWebSocket, WebSocketUpgradeError } from "./ws_upstream.ts";
import type { ProxyState } from "./state.ts";

// 1005 (no code) and 1006 (abnormal) are never sent on the wire; an upstream that vanished is
// reported to the client as 1014 (bad gateway).
function wireCode(code: number): number | undefined {
  if (code === 1005) return undefined;
  if (code === 1006 || code === 1015) return 1014;
  return code;
}

/** Bridges the request's WebSocket to `target`; answers 502 when the upstream refuses. */
export async function bridgeWebSocket(
  req: Request,
  target: Target,
  path: string,
  headers: string[],
  upstream: UpstreamRuntime,
  state: ProxyState,
  live: LiveConnections,
): Promise<Response> {
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",").map((p) => p.trim()).filter(Boolean);
  let up: UpstreamWebSocket;
  try {
    up = await UpstreamWebSocket.connect(
      target.address,
      path,
      headers,
      protocols,
      upstream.timeouts.connectMs,
    );
  } catch (e) {
    return problem(
      502,
      "upstream-unreachable",
      `upstream "${upstream.config.name}" refused the WebSocket${
        e instanceof WebSocketUpgradeError ? `: ${e.message}` : ""
      }`,
      state.requestId,
    );
  }

  const { socket: down, response } = Deno.upgradeWebSocket(req, {
    protocol: up.protocol || undefined,
  });
  down.binaryType = "arraybuffer";
  // Frames from the upstream can arrive before the client side is open: hold them until then.
  const pending: (string | Uint8Array)[] = [];
  let upClosed = false;
  const bridge: LiveEntry = {
    routeName: state.match.route.config.name,
    kind: "websocket",
    close(code, reason) {
      if (down.readyState <= WebSocket.OPEN) down.close(code, reason);
      up.close(code, reason);
    },
  };
  live.add(bridge);
  const finish = () => {
    if (down.readyState === WebSocket.CLOSED && upClosed) live.delete(bridge);
  };
  up.onmessage = (data) => {
    if (down.readyState === WebSocket.OPEN) down.send(data as string | Uint8Array<ArrayBuffer>);
    else pending.push(data);
  };
  up.onclose = (code, reason) => {
    upClosed = true;
    if (down.readyState === WebSocket.OPEN) down.close(wireCode(code), reason);
    else if (down.readyState === WebSocket.CONNECTING) pending.length = 0;
    finish();
  };
  down.onopen = () => {
    for (const m of pending.splice(0)) down.send(m as string | Uint8Array<ArrayBuffer>);
    if (upClosed) down.close(1014, "upstream closed");
  };
  down.onmessage = (e) => up.send(e.data);
  // Any code the client used (1001 going away, 1008 policy...) reaches the upstream as sent.
  down.onclose = (e) => {
    up.close(e.code === 1005 || e.code === 1006 ? 1000 : e.code, e.reason);
    finish();
  };
  down.onerror = () => {};
  up.start();
  return response;
}
