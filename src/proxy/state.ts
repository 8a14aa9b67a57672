import type { Span } from "@opentelemetry/api";
import type { RouteMatch } from "../routing/route_table.ts";
import type { ForwardedView } from "./forwarded.ts";

/**
 * Per-request state shared by the global middleware, the route's policies and the forwarder.
 * Policies change what is forwarded by editing this, never the incoming Request.
 */
export interface ProxyState {
  readonly requestId: string;
  /** Client IP after trusted-proxy resolution. */
  readonly clientIp: string;
  readonly match: RouteMatch;
  /** The authority the client asked for (`Host`, or the URL's for HTTP/2 and absolute-form). */
  readonly authority: string;
  /** What the upstream is told about the original request. */
  readonly forwarded: ForwardedView;
  /** Whether the connecting peer is a trusted proxy. */
  readonly trustedPeer: boolean;
  /** Origin-form path and query sent upstream (`/users/7?x=1`); rewrite policies edit it. */
  upstreamPath: string;
  /**
   * Outgoing request headers when a policy edited them (copy-on-write); `undefined` means
   * "the incoming headers, unchanged", which saves a copy on the common path.
   */
  requestHeaders?: Headers;
  /** Peer-claim headers (`X-Forwarded-Port`, ...) a `headers` policy set: forwarded as set. */
  policyClaims?: Set<string>;
  /**
   * The request's server span when tracing is on. Policies that want to annotate the trace use
   * this: with Ferry's own exporter there is no active span in the async context.
   */
  span?: Span;
  /** The authenticated subject, for logs and traces (set by identity policies). */
  subject?: string;
  /**
   * Verified token claims, set by the `jwt` policy once a token checked out; canary rules and
   * sticky splits on a `claim` read them here. Never set from anything unverified.
   */
  claims?: Record<string, unknown>;
  /** The upstream (by name) the request was forwarded to, for logs and traces. */
  upstream?: string;
  /** The upstream target URL that served the request, for logs. */
  target?: string;
  /** Time the last upstream attempt took to answer (ms), for logs. */
  upstreamMs?: number;
  /** Why the last upstream attempt failed (`connect: ...`), when it did, for logs. */
  upstreamError?: string;
  /** Response body size when known as the response starts, for logs and metrics. */
  bytesOut?: number;
}

/** Hono environment of the gateway app: the state lives in `c.var.proxy`. */
export interface GatewayEnv {
  Variables: { proxy: ProxyState };
}

/** The outgoing headers for editing, copying the incoming ones on first use. */
export function editableRequestHeaders(state: ProxyState, incoming: Headers): Headers {
  return state.requestHeaders ??= new Headers(incoming);
}
