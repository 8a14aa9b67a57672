/**
 * The gateway's request handler: the global concerns every request gets (request id, framing
 * checks, metrics, access log) around route matching and the route's chain. They run inline in
 * one function rather than as separate Hono middlewares: each extra async layer costs measurable
 * throughput, and these concerns never vary by route. Hono comes in per route, for policies.
 */
import type { AccessLog } from "../observe/access_log.ts";
import { isoTime } from "../observe/iso_time.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import type { Tracing } from "../observe/tracing.ts";
import { authorityProblem } from "./authority.ts";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { RouteChain } from "../policies/chain.ts";
import { RequestView, splitUrl, type UrlParts } from "../routing/request_view.ts";
import type { RouteTable } from "../routing/route_table.ts";
import type { ForwardedResolver } from "./forwarded.ts";
import { withoutConnectionNamed } from "./hop_by_hop.ts";
import { problem } from "./problem.ts";
import { requestIdFrom } from "./request_id.ts";
import type { ProxyState } from "./state.ts";
import { NO_ROUTE } from "../observe/config_scope.ts";

/** What the handler needs from its snapshot. */
export interface HandlerDeps {
  table: RouteTable;
  /** One composed chain per route, by route index. */
  chains: readonly RouteChain[];
  forwarded: ForwardedResolver;
  metrics: GatewayMetrics;
  accessLog: AccessLog;
  tracing: Tracing;
  /** Traffic-coloring headers recorded on spans and in the access log. */
  colorHeaders: readonly string[];
  /** Logs unexpected errors (a bug, never a bad request or upstream). */
  onError(error: unknown, requestId: string): void;
}

/** Connection facts a listener passes along (Deno.serve's handler info has this shape). */
export interface ConnInfo {
  remoteAddr?: { hostname?: string };
}

const ignore = () => {};

/**
 * Reads the request's header list whole. Until then each `headers.get` is a call into Deno's
 * HTTP layer; forwarding reads the whole list anyway (outboundHeaders), so reading it first
 * makes every earlier lookup (request id, trace context, framing) a plain one (measured side by
 * side: 0.5–1.5% more requests per CPU second).
 */
function readHeaderList(req: Request): void {
  req.headers.forEach(ignore);
}

/** Builds the request handler for one snapshot: `(request, connection info) → response`. */
export function createProxyHandler(
  deps: HandlerDeps,
): (req: Request, info?: unknown) => Promise<Response> {
  const { table, chains, forwarded, metrics, accessLog, tracing, colorHeaders } = deps;
  const handle = async (
    req: Request,
    info: unknown,
    started: number,
    span?: Span,
    endSpan = false,
  ): Promise<Response> => {
    const requestId = requestIdFrom(req.headers.get("x-request-id"));
    const peer = (info as ConnInfo | undefined)?.remoteAddr?.hostname ?? "127.0.0.1";
    const method = req.method;
    const href = req.url;
    const url = splitUrl(href);
    let routeName = NO_ROUTE;
    let state: ProxyState | undefined;
    let res: Response;
    metrics.inflight.inc();
    try {
      const malformed = framingProblem(method, req.headers) ?? authorityProblem(url.host);
      if (malformed) {
        res = problem(400, "bad-request", malformed, requestId, { connection: "close" });
      } else if (method === "CONNECT") {
        // A reverse proxy opens no tunnels: refused before routing, never forwarded as "CONNECT /".
        res = problem(
          501,
          "not-implemented",
          "CONNECT is not supported: Ferry is a reverse proxy, not a forward proxy",
          requestId,
        );
      } else {
        const input = new RequestView(method, url, req.headers);
        const match = table.match(input);
        if (!match) {
          res = problem(404, "no-route", `no route matches ${method} ${input.path}`, requestId);
        } else {
          routeName = match.route.config.name;
          const view = forwarded.resolve(peer, req.headers, proto(href), url.host);
          state = {
            requestId,
            clientIp: view.clientIp,
            match,
            authority: url.host,
            forwarded: view,
            trustedPeer: forwarded.trusts(peer),
            upstreamPath: url.query ? `${url.path}?${url.query}` : url.path,
            // Fields the client named in Connection are its hop's only: gone before policies
            // add their own (see withoutConnectionNamed).
            requestHeaders: withoutConnectionNamed(req.headers),
            span,
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
    const finished = performance.now();
    const ms = finished - started;
    const series = metrics.observe(routeName, method, res.status, ms / 1000);
    const bytesIn = contentLength(req.headers);
    if (bytesIn > 0) series.bytesIn.value += bytesIn;
    if (state?.bytesOut) series.bytesOut.value += state.bytesOut;
    if (span?.isRecording()) {
      describeServerSpan(
        span,
        req,
        { method, href, url, status: res.status, route: routeName, requestId },
        state,
        colorHeaders,
      );
    }
    if (endSpan) span!.end(finished);
    if (accessLog.enabled && accessLog.sampled()) {
      accessLog.write({
        time: isoTime(),
        requestId,
        traceId: span?.spanContext().traceId,
        route: routeName,
        method,
        path: url.path,
        status: res.status,
        durationMs: round(ms),
        upstreamMs: state?.upstreamMs === undefined ? undefined : round(state.upstreamMs),
        upstreamTarget: state?.target,
        upstreamError: state?.upstreamError,
        bytesIn: bytesIn >= 0 ? bytesIn : undefined,
        bytesOut: state?.bytesOut,
        clientIp: state?.clientIp ?? peer,
        userAgent: req.headers.get("user-agent") ?? undefined,
        subject: state?.subject,
        colors: colorsOf(state?.requestHeaders ?? req.headers, colorHeaders),
      });
    }
    return res;
  };
  if (!tracing.enabled) {
    return (req, info) => {
      readHeaderList(req);
      return handle(req, info, performance.now());
    };
  }
  return (req, info) => {
    readHeaderList(req);
    // One clock reading for both the span's start and the request's duration.
    const started = performance.now();
    const span = tracing.startServerSpan(req, started);
    if (span === undefined) {
      return tracing.withServerSpan(req, started, (span) => handle(req, info, started, span));
    }
    // Ferry's own span: `handle` ends it, which saves a wrapper (an async layer) per request.
    return handle(req, info, started, span, true);
  };
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** The request's declared body length, or -1. */
function contentLength(headers: Headers): number {
  const value = headers.get("content-length");
  return value === null ? -1 : Number(value);
}

/** The configured color headers the request carries, or undefined when none. */
function colorsOf(headers: Headers, names: readonly string[]): Record<string, string> | undefined {
  let colors: Record<string, string> | undefined;
  for (const name of names) {
    const value = headers.get(name);
    if (value !== null) (colors ??= {})[name] = value;
  }
  return colors;
}

/** What the handler learnt of a request by the time it answered it. */
interface ServedRequest {
  method: string;
  /** `req.url`. */
  href: string;
  url: UrlParts;
  status: number;
  route: string;
  requestId: string;
}

/**
 * Names the server span `METHOD route` and sets its semantic-convention attributes: those of
 * Deno's own server span minus the query (it may carry credentials), then Ferry's. All are set
 * when the request is done, from what the handler already read of it.
 */
function describeServerSpan(
  span: Span,
  req: Request,
  served: ServedRequest,
  state: ProxyState | undefined,
  colorHeaders: readonly string[],
): void {
  span.updateName(`${served.method} ${served.route}`);
  span.setAttribute("http.request.method", served.method);
  span.setAttribute("url.scheme", proto(served.href));
  span.setAttribute("url.path", served.url.path);
  span.setAttribute("server.address", served.url.host);
  span.setAttribute("http.route", served.route);
  span.setAttribute("http.response.status_code", served.status);
  span.setAttribute("ferry.request_id", served.requestId);
  if (served.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  if (state) {
    span.setAttribute("client.address", state.clientIp);
    if (state.upstream) span.setAttribute("ferry.upstream", state.upstream);
    if (state.target) span.setAttribute("ferry.target", state.target);
    if (state.subject) span.setAttribute("enduser.id", state.subject);
  }
  // As forwarded: a canary rule may have set a color on the outgoing headers.
  const colors = colorsOf(state?.requestHeaders ?? req.headers, colorHeaders);
  if (colors) {
    for (const [name, value] of Object.entries(colors)) {
      span.setAttribute(`ferry.color.${name}`, value);
    }
  }
}

function proto(url: string): string {
  return url.startsWith("https:") ? "https" : "http";
}

/**
 * Ambiguous framing is a request-smuggling vector (RFC 9112 §6.3): a message with both
 * Transfer-Encoding and Content-Length, or a Content-Length that is not one plain number, is
 * refused instead of being guessed at and forwarded.
 *
 * A body on GET or HEAD is refused too: `Deno.serve` reads it but never hands it over (its
 * `Request` has no body for those methods), so forwarding would silently send the request
 * without it, and a search API that takes its query as a GET body (Elasticsearch's `_search`)
 * would answer a different question. `Content-Length: 0` is no body and passes.
 */
export function framingProblem(method: string, headers: Headers): string | undefined {
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te === null && cl === null) return undefined;
  if (te !== null && cl !== null) {
    return "request has both Transfer-Encoding and Content-Length";
  }
  if (cl !== null && !/^\d{1,15}$/.test(cl)) {
    return `invalid Content-Length ${JSON.stringify(cl.slice(0, 40))}`;
  }
  if (te !== null && te.toLowerCase().trim() !== "chunked") {
    return `unsupported Transfer-Encoding ${JSON.stringify(te.slice(0, 40))}`;
  }
  if ((method === "GET" || method === "HEAD") && (te !== null || Number(cl) > 0)) {
    return `a ${method} request with a body cannot be forwarded (the body would be dropped); ` +
      "send the body with POST";
  }
  return undefined;
}
