/**
 * The typed config model. Everything here is plain, JSON-like data: it can be validated, hashed,
 * diffed, shown on the admin API, loaded from YAML and cloned out of a Worker. Behaviour is attached
 * later, when a snapshot is compiled from this data.
 */

/** A duration such as `"250ms"`, `"5s"`, `"2m"` or `"1h"`. */
export type Duration = `${number}ms` | `${number}s` | `${number}m` | `${number}h`;

/** Where a listener binds. */
export interface ListenConfig {
  /** Interface to bind. Default `"127.0.0.1"`. */
  hostname?: string;
  /** TCP port; `0` picks a free one. Default `8080` for the proxy, `9901` for admin. */
  port?: number;
}

/** The admin listener: health, readiness, metrics, config and routes. */
export interface AdminConfig extends ListenConfig {
  /** Set to `false` to run without an admin listener. Default `true`. */
  enabled?: boolean;
  /**
   * Name of an environment variable holding a bearer token. Endpoints that change state
   * (`POST /reload`) accept loopback callers always, and other callers only with
   * `Authorization: Bearer <token>`. Without it, only loopback callers may change state.
   */
  tokenEnv?: string;
}

/** Hot reload behaviour. */
export interface ReloadConfig {
  /** Quiet time after the last file event before reloading. Default `"100ms"`. */
  debounce?: Duration;
  /**
   * How long WebSockets and streams on a changed or removed route stay open after a reload
   * before they are closed. Streams on unchanged routes are never closed. Default `"30s"`.
   */
  streamGrace?: Duration;
}

/** One upstream target: a base URL (scheme, host, port; no path) and a balancing weight. */
export interface TargetConfig {
  /** `http://host:port` or `https://host:port`. */
  url: string;
  /** Relative share of traffic for weighted balancers. Default `1`. */
  weight?: number;
}

/** How a request picks a target inside an upstream. */
export type BalancerConfig =
  /** Smooth weighted round-robin (plain round-robin when all weights are equal). The default. */
  | { type: "round_robin" }
  /** Power of two choices among targets, preferring the one with fewer requests in flight. */
  | { type: "least_request" }
  /** Consistent hashing (a ring with virtual nodes) on a request attribute. */
  | { type: "consistent_hash"; key: HashKeyConfig };

/** The request attribute a consistent-hash balancer hashes on. */
export type HashKeyConfig = { header: string } | { cookie: string } | { clientIp: true };

/** Upstream timeouts. */
export interface UpstreamTimeouts {
  /** TCP (and TLS) connect. Default `"5s"`. */
  connect?: Duration;
  /** From dispatch until the upstream's response headers arrive. Default `"30s"`. */
  total?: Duration;
  /** Longest silence while streaming a body in either direction. Default `"60s"`. */
  idle?: Duration;
}

/** Connection pooling toward each target. */
export interface PoolConfig {
  /** Idle keep-alive connections kept per target. Default `128`. */
  maxIdlePerTarget?: number;
  /** Close an idle connection after this long. Default `"60s"`. */
  idleTimeout?: Duration;
}

/** A named group of targets that routes send traffic to. */
export interface UpstreamConfig {
  /** At least one target: a URL string or `{ url, weight }`. */
  targets: (string | TargetConfig)[];
  /** Default `{ type: "round_robin" }`. */
  balancer?: BalancerConfig;
  /**
   * The `Host` header sent upstream. `"preserve"` (default) forwards the client's Host;
   * `"target"` uses the target's host:port; any other string is sent as is.
   */
  host?: "preserve" | "target" | (string & Record<never, never>);
  /** Default connect 5s, total 30s, idle 60s. */
  timeouts?: UpstreamTimeouts;
  /** Default 128 idle connections per target, closed after 60s idle. */
  pool?: PoolConfig;
}

/** Match on one request header. */
export type HeaderMatch =
  /** The header equals this value exactly. */
  | string
  /** The header equals `equals`, matches `regex`, or is `present: true|false`. */
  | { equals: string }
  | { regex: string }
  | { present: boolean };

/** Conditions a request must meet for a route to take it. Every given condition must hold. */
export interface MatchConfig {
  /** Exact host (`api.example.com`) or a wildcard (`*.example.com`); a list matches any. */
  host?: string | string[];
  /**
   * Path pattern: exact (`/health`), prefix (`/api/*`), params (`/users/:id`) and
   * regex-constrained params (`/users/:id{[0-9]+}`). Default `/*`.
   */
  path?: string;
  /** Methods; any when absent. */
  method?: string | string[];
  /** Header conditions by header name (case-insensitive). */
  headers?: Record<string, HeaderMatch>;
  /** Query parameter conditions by name, with the same forms as headers. */
  query?: Record<string, HeaderMatch>;
}

/** A route-level redirect answered by the gateway itself. */
export interface RedirectConfig {
  /**
   * Target URL or path. `{path}` and `{query}` are replaced with the request's, and `:param`
   * with captured path params (for example `"https://new.example.com{path}"`).
   */
  to: string;
  /** Default `308`. */
  status?: 301 | 302 | 303 | 307 | 308;
}

/** Header edits applied in order: remove, then set, then add. */
export interface HeaderRules {
  /** Appended (kept alongside existing values). */
  add?: Record<string, string>;
  /** Replace any existing value. */
  set?: Record<string, string>;
  /** Header names to delete. */
  remove?: string[];
}

/** Path rewriting before forwarding. */
export interface RewriteConfig {
  /** Remove this prefix (`/api` turns `/api/users` into `/users`). */
  stripPrefix?: string;
  /** Put this prefix in front, after any strip. */
  addPrefix?: string;
  /** Regex rewrite of the path, with `$1`-style group references in `replacement`. */
  regex?: { pattern: string; replacement: string };
}

/**
 * A policy descriptor: plain data naming a policy kind and its options. Factories like
 * `headers({...})` and `rewrite({...})` build these; the gateway turns them into middleware.
 */
export interface PolicyDescriptor<K extends string = string, O = unknown> {
  readonly kind: K;
  readonly options: O;
}

/** One route: conditions, optional policies, and what to do with a match. */
export interface RouteConfig<U extends string = string, P extends string = string> {
  /** Stable name used in metrics, logs and `explain`. Default `route-<index>`. */
  name?: string;
  /** Default: match everything. */
  match?: MatchConfig;
  /** The upstream to forward to. Exactly one of `upstream` and `redirect` is required. */
  upstream?: U;
  /** Answer with a redirect instead of forwarding. */
  redirect?: RedirectConfig;
  /** Policies in the order they run: names from `policies`, or inline descriptors. */
  use?: (P | PolicyDescriptor)[];
}

/** Which client addresses may set `X-Forwarded-*` headers that Ferry will trust. */
export interface TrustConfig {
  /** CIDRs of proxies in front of Ferry (for example a load balancer). Default: none. */
  proxies?: string[];
}

/** The JSON access log. */
export interface AccessLogConfig {
  /** `"off"` (default), `"stdout"`, or `{ file: path }`. */
  to?: "off" | "stdout" | { file: string };
}

/** Limits applied to every request. */
export interface LimitsConfig {
  /** Largest accepted request body. Default `"10MB"`-equivalent: 10485760 bytes. */
  maxBodyBytes?: number;
  /** How long SIGTERM waits for in-flight requests. Default `"10s"`. */
  drainTimeout?: Duration;
}

/** The built-in demo upstream, so the showcase config works on a fresh machine. */
export interface DemoConfig {
  /** Where the demo upstream listens. Default 127.0.0.1:3000. */
  listen?: ListenConfig;
}

/** A whole gateway config, generic over the names of its upstreams (U) and policies (P). */
export interface FerryConfig<U extends string = string, P extends string = string> {
  /** Proxy listener. Default 127.0.0.1:8080. */
  listen?: ListenConfig;
  /** Admin listener. Default 127.0.0.1:9901. */
  admin?: AdminConfig;
  /** Named upstreams. */
  upstreams: { [K in U]: UpstreamConfig };
  /** Named, reusable policies. */
  policies?: { [K in P]: PolicyDescriptor };
  /** Routes, matched in declared order: the first match wins. */
  routes: RouteConfig<NoInfer<U>, NoInfer<P>>[];
  /** Trusted proxies for `X-Forwarded-*`. */
  trust?: TrustConfig;
  /** JSON access log. */
  accessLog?: AccessLogConfig;
  /** Request limits and shutdown drain. */
  limits?: LimitsConfig;
  /** Start the built-in demo upstream alongside the gateway. */
  demo?: DemoConfig;
  /** Hot reload: debounce and grace period for streams on changed routes. */
  reload?: ReloadConfig;
}
