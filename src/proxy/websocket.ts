/**
 * WebSocket pass-through: connect to the upstream first (so its chosen subprotocol can be
 * offered to the client), then upgrade the client and relay frames both ways until either side
 * closes, carrying the close code and reason across.
 */
import type { Target } from "../upstream/target.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import type { LiveConnections, LiveEntry } from "./live.ts";
import { problem } from "./problem.ts";
import type { ProxyState } from "./state.ts";

// The WebSocket API lets a client-side socket send only 1000 or 3000–4999; other codes the
// client used (1001 going away, 1008 policy...) reach the upstream as 1000.
function clientSideCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

// 1005 (no code) and 1006 (abnormal) are never sent on the wire; an upstream that vanished is
// reported to the client as 1014 (bad gateway).
function serverSideCode(code: number): number | undefined {
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
  const url = target.url.replace(/^http/, "ws") + path;
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",").map((p) => p.trim()).filter(Boolean);
  const extra: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== "host") extra[headers[i]] = headers[i + 1];
  }
  let up: WebSocket;
  try {
    up = new WebSocket(url, { protocols, headers: extra } as unknown as string[]);
  } catch {
    return problem(
      502,
      "upstream-unreachable",
      "upstream WebSocket URL is invalid",
      state.requestId,
    );
  }
  up.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      up.close();
      resolve(false);
    }, upstream.timeouts.connectMs);
    up.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    up.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
  if (!opened) {
    return problem(
      502,
      "upstream-unreachable",
      `upstream "${upstream.config.name}" refused the WebSocket`,
      state.requestId,
    );
  }

  const { socket: down, response } = Deno.upgradeWebSocket(req, {
    protocol: up.protocol || undefined,
  });
  down.binaryType = "arraybuffer";
  // Frames from the upstream can arrive before the client side is open: hold them until then.
  const pending: (string | ArrayBuffer)[] = [];
  const bridge: LiveEntry = {
    routeName: state.match.route.config.name,
    close(code, reason) {
      if (down.readyState <= WebSocket.OPEN) down.close(code, reason);
      if (up.readyState <= WebSocket.OPEN) up.close(clientSideCode(code), reason);
    },
  };
  live.add(bridge);
  const finish = () => {
    if (down.readyState === WebSocket.CLOSED && up.readyState === WebSocket.CLOSED) {
      live.delete(bridge);
    }
  };
  up.onmessage = (e) => {
    if (down.readyState === WebSocket.OPEN) down.send(e.data);
    else pending.push(e.data);
  };
  down.onopen = () => {
    for (const m of pending.splice(0)) down.send(m);
    if (up.readyState !== WebSocket.OPEN) down.close(serverSideCode(1006));
  };
  down.onmessage = (e) => {
    if (up.readyState === WebSocket.OPEN) up.send(e.data);
  };
  up.onclose = (e) => {
    if (down.readyState === WebSocket.OPEN) down.close(serverSideCode(e.code), e.reason);
    else if (down.readyState === WebSocket.CONNECTING) pending.length = 0;
    finish();
  };
  down.onclose = (e) => {
    if (up.readyState <= WebSocket.OPEN) up.close(clientSideCode(e.code), e.reason);
    finish();
  };
  up.onerror = () => {};
  down.onerror = () => {};
  return response;
}
