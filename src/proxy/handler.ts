/**
 * The gateway's request handler: the global concerns every request gets (request id, framing
 * checks, metrics, access log) around route matching and the route's chain. They run inline in
 * one function rather than as separate Hono middlewares: each extra async layer costs measurable
 * throughput, and these concerns never vary by route. Hono comes in per route, for policies.
 */
import type { AccessLog } from "../observe/access_log.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import type { RouteChain } from "../policies/chain.ts";
import { RequestView, splitUrl } from "../routing/request_view.ts";
import type { RouteTable } from "../routing/route_table.ts";
import type { ForwardedResolver } from "./forwarded.ts";
import { problem } from "./problem.ts";
import { requestIdFrom } from "./request_id.ts";
import type { ProxyState } from "./state.ts";

/** What the handler needs from its snapshot. */
export interface HandlerDeps {
  table: RouteTable;
  /** One composed chain per route, by route index. */
  chains: readonly RouteChain[];
  forwarded: ForwardedResolver;
  metrics: GatewayMetrics;
  accessLog: AccessLog;
  /** Logs unexpected errors (a bug, never a bad request or upstream). */
  onError(error: unknown, requestId: string): void;
}

/** Connection facts a listener passes along (Deno.serve's handler info has this shape). */
export interface ConnInfo {
  remoteAddr?: { hostname?: string };
}

const NO_ROUTE = "no_route";

/** Builds the request handler for one snapshot: `(request, connection info) → response`. */
export function createProxyHandler(
  deps: HandlerDeps,
): (req: Request, info?: unknown) => Promise<Response> {
  const { table, chains, forwarded, metrics, accessLog } = deps;
  return async (req: Request, info?: unknown): Promise<Response> => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers.get("x-request-id"));
    const peer = (info as ConnInfo | undefined)?.remoteAddr?.hostname ?? "127.0.0.1";
    let routeName = NO_ROUTE;
    let state: ProxyState | undefined;
    let res: Response;
    metrics.inflight.inc();
    try {
      const framing = framingProblem(req.headers);
      if (framing) {
        res = problem(400, "bad-request", framing, requestId, { connection: "close" });
      } else if (req.method === "CONNECT") {
        // A reverse proxy opens no tunnels: refused before routing, never forwarded as "CONNECT /".
        res = problem(
          501,
          "not-implemented",
          "CONNECT is not supported: Ferry is a reverse proxy, not a forward proxy",
          requestId,
        );
      } else {
        const url = splitUrl(req.url);
        const input = new RequestView(req.method, url, req.headers);
        const match = table.match(input);
        if (!match) {
          res = problem(404, "no-route", `no route matches ${req.method} ${input.path}`, requestId);
        } else {
          routeName = match.route.config.name;
          const view = forwarded.resolve(peer, req.headers, proto(req.url), url.host);
          state = {
            requestId,
            clientIp: view.clientIp,
            match,
            authority: url.host,
            forwarded: view,
            trustedPeer: forwarded.trusts(peer),
            upstreamPath: url.query ? `${url.path}?${url.query}` : url.path,
          };
          res = await chains[match.route.config.index](req, info, state);
        }
      }
    } catch (error) {
      deps.onError(error, requestId);
      res = problem(500, "internal-error", "the gateway failed to handle this request", requestId);
    } finally {
      metrics.inflight.dec();
    }
    const ms = performance.now() - started;
    metrics.observe(routeName, req.method, res.status, ms / 1000);
    if (accessLog.enabled) {
      accessLog.write({
        time: new Date().toISOString(),
        requestId,
        route: routeName,
        method: req.method,
        path: splitUrl(req.url).path,
        status: res.status,
        durationMs: Math.round(ms * 1000) / 1000,
        upstreamTarget: state?.target,
        clientIp: state?.clientIp ?? peer,
        userAgent: req.headers.get("user-agent") ?? undefined,
        subject: state?.subject,
      });
    }
    return res;
  };
}

function proto(url: string): string {
  return url.startsWith("https:") ? "https" : "http";
}

/**
 * Ambiguous framing is a request-smuggling vector (RFC 9112 §6.3): a message with both
 * Transfer-Encoding and Content-Length, or a Content-Length that is not one plain number, is
 * refused instead of being guessed at and forwarded.
 */
export function framingProblem(headers: Headers): string | undefined {
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te !== null && cl !== null) {
    return "request has both Transfer-Encoding and Content-Length";
  }
  if (cl !== null && !/^\d{1,15}$/.test(cl)) {
    return `invalid Content-Length ${JSON.stringify(cl.slice(0, 40))}`;
  }
  if (te !== null && te.toLowerCase().trim() !== "chunked") {
    return `unsupported Transfer-Encoding ${JSON.stringify(te.slice(0, 40))}`;
  }
  return undefined;
}
