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

/** Upstream timeouts. Each one answers 504 when it fires. */
export interface UpstreamTimeouts {
  /** TCP (and TLS) connect, per attempt. Default `"5s"`. */
  connect?: Duration;
  /**
   * One attempt, from dispatch until its response headers. A retryable attempt that times out
   * is retried when `retries.on` includes `"timeout"`. Default: the `total` timeout.
   */
  perTry?: Duration;
  /**
   * The whole request, from the first dispatch until response headers, retries and backoff
   * included. Default `"30s"`.
   */
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

/** A status range in health-check expectations: a status code or a class like `"2xx"`. */
export type StatusMatch = number | "1xx" | "2xx" | "3xx" | "4xx" | "5xx";

/**
 * Active health checks: Ferry probes every target with `GET path` on its own schedule. A target
 * that fails `unhealthyThreshold` probes in a row stops taking traffic; one that then passes
 * `healthyThreshold` in a row comes back (with slow start). Targets start healthy, so a new
 * config takes traffic at once; the first probe runs as soon as the upstream is built.
 */
export interface HealthCheckConfig {
  /** Path (and optional query) probed with GET, such as `"/healthz"`. */
  path: string;
  /** Time between two probes of one target. Default `"5s"`. */
  interval?: Duration;
  /**
   * Up to this much random extra wait before each probe, so that probes from many gateways do
   * not arrive in lockstep. Default: a tenth of `interval`.
   */
  jitter?: Duration;
  /** A probe without a response within this time fails. Default `"2s"`. */
  timeout?: Duration;
  /** Statuses that pass. Default `["2xx"]`. */
  expectStatus?: StatusMatch[];
  /** Passing probes in a row that bring an unhealthy target back. Default `2`. */
  healthyThreshold?: number;
  /** Failing probes in a row that take a healthy target out. Default `3`. */
  unhealthyThreshold?: number;
  /** Host header of probes. Default: the upstream's literal `host`, else the target's `host:port`. */
  host?: string;
}

/**
 * Passive outlier detection: real traffic that fails (connect errors, resets, timeouts and 5xx
 * answers) `consecutiveFailures` times in a row ejects a target for `baseEjectionTime × 2^n`
 * (n = its recent ejections), capped at `maxEjectionTime`. When the time is up the target is
 * tried half-open: one failure ejects it again for longer, one success brings it back with slow
 * start. A lone target is never ejected, nor the last one still in rotation (the circuit
 * breaker covers that case).
 */
export interface OutlierDetectionConfig {
  /** Failures in a row that eject a target. Default `5`. */
  consecutiveFailures?: number;
  /** First ejection length. Default `"30s"`. */
  baseEjectionTime?: Duration;
  /** Longest ejection. Default `"5m"`. */
  maxEjectionTime?: Duration;
  /** At most this share of the targets is ejected at once (at least one of two or more). Default `50`. */
  maxEjectedPercent?: number;
  /**
   * A target coming back (after ejection or failed health checks) ramps its weight from 10% to
   * 100% over this time instead of taking a full share at once. `"0s"` turns it off. Default
   * `"10s"`.
   */
  slowStart?: Duration;
}

/**
 * A circuit breaker per upstream. It opens when at least `failurePercent`% of at least
 * `minRequests` attempts inside the sliding `window` failed. While open, requests fail fast with
 * 503 and `Retry-After`. After `openFor` it lets `halfOpenProbes` attempts through: if they all
 * succeed it closes, and if one fails it opens again for twice as long, up to `maxOpenFor`.
 */
export interface CircuitBreakerConfig {
  /** Failure share, in percent, that opens the circuit. Default `50`. */
  failurePercent?: number;
  /** Fewest attempts in the window before the rate is judged. Default `20`. */
  minRequests?: number;
  /** The sliding window the rate is measured over. Default `"10s"`. */
  window?: Duration;
  /** How long the first trip stays open. Default `"5s"`. */
  openFor?: Duration;
  /** Cap on the doubling open time of repeated trips. Default `"60s"`. */
  maxOpenFor?: Duration;
  /** Attempts let through while half-open. Default `3`. */
  halfOpenProbes?: number;
}

/**
 * What makes an attempt worth retrying: `"connect"` (refused, unreachable, connect timeout),
 * `"reset"` (the connection closed before a response), `"timeout"` (the per-try timeout
 * fired), or an upstream response status from 500 to 599.
 */
export type RetryOn = "connect" | "reset" | "timeout" | number;

/** Retries of failed attempts, on another target whenever one exists. */
export interface RetryConfig {
  /** Retries after the first attempt. Default `2`. */
  maxRetries?: number;
  /** Default `["connect", "reset", 502, 503, 504]`. */
  on?: RetryOn[];
  /**
   * Exponential backoff with full jitter: retry n waits a random time up to
   * `min(max, base × 2^n)`. Default base `"25ms"`, max `"250ms"`.
   */
  backoff?: { base?: Duration; max?: Duration };
  /**
   * Retries stay below `percent`% of the requests in the last 10 seconds, plus
   * `minPerSecond` per second so that a quiet upstream can still retry. When the budget is
   * spent, the failed attempt's answer goes to the client. Default 20% and 3 per second.
   */
  budget?: { percent?: number; minPerSecond?: number };
  /**
   * Request bodies up to this size (with a Content-Length) are buffered so they can be sent
   * again; larger or chunked bodies are streamed and not retried, except after a failed connect
   * (none of the body was read yet). Default `65536`.
   */
  maxBufferedBodyBytes?: number;
}

/**
 * Verification of an upstream's `https://` targets. Certificates are always verified; Ferry
 * speaks HTTP/1.1 over TLS to them, as nginx and Envoy do by default.
 */
export interface UpstreamTlsConfig {
  /**
   * PEM certificates of private CAs the targets' certificates may chain to, besides Deno's
   * default roots (`Deno.readTextFileSync("/etc/ferry/internal-ca.pem")`, under
   * `--allow-read` for that file). `DENO_CERT` or `DENO_TLS_CA_STORE=system` extend the roots
   * for the whole process instead.
   */
  caCerts?: string[];
  /**
   * The name sent as SNI and checked against the certificate, when it is not the target's host:
   * a target addressed by IP (`https://10.0.0.7`) whose certificate names `api.internal`.
   */
  serverName?: string;
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
  /** How `https://` targets are verified. Default: Deno's roots, each target's own host name. */
  tls?: UpstreamTlsConfig;
  /** Active health checks. Off unless given. */
  healthCheck?: HealthCheckConfig;
  /** Passive outlier detection. On by default; `false` turns it off. */
  outlierDetection?: OutlierDetectionConfig | false;
  /** Circuit breaker. On by default; `false` turns it off. */
  circuitBreaker?: CircuitBreakerConfig | false;
  /**
   * Retries. On by default for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE);
   * `false` turns them off. A route opts other methods in with `retryNonIdempotent`. A failed
   * connect (nothing was sent) is retried for every method.
   */
  retries?: RetryConfig | false;
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

/**
 * Mirroring: a share of a route's requests is copied to a shadow upstream, fire-and-forget. The
 * client's response never waits for the mirror and never depends on it.
 */
export interface MirrorConfig<U extends string = string> {
  /** The shadow upstream (a name from `upstreams`). */
  upstream: U;
  /**
   * Share of requests mirrored, in percent. Exact over time, not random: `10` mirrors every
   * 10th request. Default `100`.
   */
  percent?: number;
  /**
   * Mirrors in flight at once for this route; a request selected beyond that is not mirrored
   * (counted as dropped). Default `64`.
   */
  maxConcurrent?: number;
  /**
   * Request bodies up to this size (with a Content-Length) are mirrored; a request with a larger
   * body, or one of unknown length (chunked), is not mirrored (counted as skipped). Default
   * `65536`.
   */
  maxBodyBytes?: number;
  /** Compare the primary and shadow responses. Off unless given. */
  diff?: MirrorDiffConfig;
}

/** How mirrored responses are compared: status, selected headers and a SHA-256 of the body. */
export interface MirrorDiffConfig {
  /**
   * Response headers compared (case-insensitive). `["*"]` compares every header except
   * hop-by-hop ones, `date` and `x-request-id`. Default `["content-type"]`.
   */
  headers?: string[];
  /** Response headers never compared (useful with `["*"]`). */
  ignoreHeaders?: string[];
  /**
   * Fields removed from JSON bodies before hashing, as dotted paths (`"timestamp"`,
   * `"meta.requestId"`); a path through an array applies to each element. Only for bodies with
   * a JSON content type of at most 1 MiB; others are hashed as they are.
   */
  ignoreJsonFields?: string[];
}

/**
 * The request attribute a sticky split hashes on: a header, a cookie, a verified JWT claim
 * (the route needs a `jwt` policy) or the client IP.
 */
export type StickyKeyConfig =
  | { header: string }
  | { cookie: string }
  | { claim: string }
  | { clientIp: true };

/** One side of a split: an upstream and its relative share. */
export interface SplitTargetConfig<U extends string = string> {
  /** A name from `upstreams`. */
  upstream: U;
  /** Relative share of traffic, a positive number (`95` and `5` send 95% and 5%). */
  weight: number;
}

/**
 * A weighted split of a route's traffic across upstreams. Without `sticky` it is a smooth
 * weighted round-robin: exact over time (95/5 sends exactly 5 of every 100 requests to the
 * second upstream) and deterministic. With `sticky`, the key's hash picks the upstream, so one
 * user always lands on the same side, and changing a weight moves only the users who must move.
 * Requests without the key fall back to the round-robin.
 */
export interface SplitConfig<U extends string = string> {
  /** At least one upstream, each listed once. */
  targets: SplitTargetConfig<U>[];
  /** Keep each user on one side, by hashing this request attribute. */
  sticky?: StickyKeyConfig;
}

/**
 * When a canary rule applies: exactly one kind of condition, and every named value in it must
 * match. Values match like route header conditions: a string (equals), `{ equals }`,
 * `{ regex }` or `{ present }`. A claim (verified by the route's `jwt` policy) that is a number
 * or boolean is compared as text, and a list matches when any item does.
 */
export type CanaryWhen =
  | { header: Record<string, HeaderMatch> }
  | { cookie: Record<string, HeaderMatch> }
  | { query: Record<string, HeaderMatch> }
  | { claim: Record<string, HeaderMatch> };

/**
 * A canary rule: requests that meet `when` go to `upstream`, before any split. The first rule
 * that matches wins.
 */
export interface CanaryRule<U extends string = string> {
  when: CanaryWhen;
  /** A name from `upstreams`. */
  upstream: U;
  /** A color sent upstream in the route's `color.header` when this rule takes the request. */
  color?: string;
}

/** Where a canary rule's color travels upstream. */
export interface ColorConfig {
  /**
   * The request header set to the matching rule's color. The gateway owns it on this route: a
   * value the client sent is replaced, or removed when no colored rule matched.
   */
  header: string;
}

/** One route: conditions, optional policies, and what to do with a match. */
export interface RouteConfig<U extends string = string, P extends string = string> {
  /** Stable name used in metrics, logs and `explain`. Default `route-<index>`. */
  name?: string;
  /** Default: match everything. */
  match?: MatchConfig;
  /**
   * The upstream to forward to. Exactly one of `upstream`, `split` and `redirect` is required.
   */
  upstream?: U;
  /** Split the route's traffic across upstreams by weight (instead of one `upstream`). */
  split?: SplitConfig<U>;
  /**
   * Rules that send matching requests to a canary upstream, checked in order before the split
   * (or `upstream`, which stays the default).
   */
  canary?: CanaryRule<U>[];
  /** Where a canary rule's color is sent upstream. Required when a rule sets a color. */
  color?: ColorConfig;
  /** Answer with a redirect instead of forwarding. */
  redirect?: RedirectConfig;
  /** Policies in the order they run: names from `policies`, or inline descriptors. */
  use?: (P | PolicyDescriptor)[];
  /**
   * Let the upstream's retries apply to POST, PATCH and other non-idempotent methods too. Only
   * for endpoints that tolerate a request arriving twice. Default `false`.
   */
  retryNonIdempotent?: boolean;
  /** Copy a share of requests to a shadow upstream, and optionally compare the answers. */
  mirror?: MirrorConfig<U>;
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
  /** Share of requests logged, from 0 to 1; exact (every n-th), not random. Default `1`. */
  sample?: number;
  /** Fields written, in the order given; every field when absent. */
  fields?: AccessLogField[];
}

/** A field of an access-log line. */
export type AccessLogField =
  | "time"
  | "requestId"
  | "traceId"
  | "route"
  | "method"
  | "path"
  | "status"
  | "durationMs"
  | "upstreamMs"
  | "upstreamTarget"
  | "upstreamError"
  | "bytesIn"
  | "bytesOut"
  | "clientIp"
  | "userAgent"
  | "subject"
  | "colors";

/**
 * Traffic coloring ("dyeing"): request headers such as `x-env` or `x-trace-color` that mark a
 * request's kind of traffic. They are forwarded upstream like any header, and recorded on the
 * request's span (`ferry.color.<header>`) and in the access log (`colors`). A canary rule or a
 * `jwt` claim mapping can set one.
 */
export interface ColoringConfig {
  /** Header names. */
  headers: string[];
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
  /** Traffic-coloring headers recorded on spans and in the access log. */
  coloring?: ColoringConfig;
  /** Request limits and shutdown drain. */
  limits?: LimitsConfig;
  /** Start the built-in demo upstream alongside the gateway. */
  demo?: DemoConfig;
  /** Hot reload: debounce and grace period for streams on changed routes. */
  reload?: ReloadConfig;
}
