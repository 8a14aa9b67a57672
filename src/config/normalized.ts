/**
 * The config after validation: every default filled in, durations in milliseconds, targets as
 * objects, routes named. This is what the rest of Ferry compiles; the user-facing shapes live in
 * `types.ts`.
 */
import type {
  AccessLogField,
  BalancerConfig,
  CanaryWhen,
  ColorConfig,
  HeaderMatch,
  PolicyDescriptor,
  RedirectConfig,
  StickyKeyConfig,
} from "./types.ts";

export interface NormalizedTarget {
  /** Origin only: `http://127.0.0.1:3000`. */
  url: string;
  weight: number;
}

export interface NormalizedUpstream {
  name: string;
  targets: NormalizedTarget[];
  balancer: BalancerConfig;
  host: string; // "preserve" | "target" | literal value
  timeouts: { connectMs: number; perTryMs: number; totalMs: number; idleMs: number };
  pool: { maxIdlePerTarget: number; idleTimeoutMs: number };
  tls: TlsSettings;
  healthCheck: NormalizedHealthCheck | null;
  outlierDetection: NormalizedOutlierDetection | null;
  circuitBreaker: NormalizedCircuitBreaker | null;
  /** `maxRetries: 0` when retries are off. */
  retries: NormalizedRetries;
}

/** How `https:` targets are verified. */
export interface TlsSettings {
  /** PEM certificates their chains may end in, besides Deno's default roots. */
  caCerts: string[];
  /** The name sent as SNI and checked against their certificates; `null`: each target's host. */
  serverName: string | null;
}

export interface NormalizedHealthCheck {
  path: string;
  intervalMs: number;
  jitterMs: number;
  timeoutMs: number;
  /** Inclusive status ranges that pass: `[[200, 299]]`. */
  expectStatus: [number, number][];
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Host header; `null` sends the upstream's literal `host`, else the target's host:port. */
  host: string | null;
}

export interface NormalizedOutlierDetection {
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  maxEjectedPercent: number;
  slowStartMs: number;
}

export interface NormalizedCircuitBreaker {
  failurePercent: number;
  minRequests: number;
  windowMs: number;
  openForMs: number;
  maxOpenForMs: number;
  halfOpenProbes: number;
}

export interface NormalizedRetries {
  maxRetries: number;
  on: { connect: boolean; reset: boolean; timeout: boolean; statuses: number[] };
  backoffBaseMs: number;
  backoffMaxMs: number;
  budgetPercent: number;
  budgetMinPerSecond: number;
  maxBufferedBodyBytes: number;
}

export interface NormalizedMatch {
  hosts: string[]; // empty = any
  path: string;
  methods: string[]; // upper-case; empty = any
  headers: Record<string, HeaderMatch>; // names lower-case
  query: Record<string, HeaderMatch>;
}

export interface NormalizedRoute {
  /** Position in `routes`, used for config paths such as `routes[3]`. */
  index: number;
  name: string;
  match: NormalizedMatch;
  upstream?: string;
  redirect?: Required<RedirectConfig>;
  /** Policies resolved to descriptors, in order; `ref` is the policy name when it was named. */
  use: { ref?: string; descriptor: PolicyDescriptor }[];
  retryNonIdempotent: boolean;
  /** Present only on routes that mirror. */
  mirror?: NormalizedMirror;
  /** Present only on routes that split (instead of `upstream`). */
  split?: NormalizedSplit;
  /** Present only on routes with canary rules (at least one). */
  canary?: NormalizedCanaryRule[];
  /** Present only when given; the header name is lower-case. */
  color?: ColorConfig;
}

/** A split with every default filled in. */
export interface NormalizedSplit {
  targets: { upstream: string; weight: number }[];
  /** `null` when not sticky; a header name is lower-case. */
  sticky: StickyKeyConfig | null;
}

/** A canary rule with every default filled in; header names in `when.header` are lower-case. */
export interface NormalizedCanaryRule {
  when: CanaryWhen;
  upstream: string;
  color: string | null;
}

export interface NormalizedMirror {
  upstream: string;
  percent: number;
  maxConcurrent: number;
  maxBodyBytes: number;
  diff: NormalizedMirrorDiff | null;
}

export interface NormalizedMirrorDiff {
  /** Lower-case names compared; `["*"]` means every header but the always-ignored ones. */
  headers: string[];
  /** Lower-case names. */
  ignoreHeaders: string[];
  /** Dotted paths, as given. */
  ignoreJsonFields: string[];
}

export interface NormalizedConfig {
  listen: { hostname: string; port: number };
  admin: { enabled: boolean; hostname: string; port: number; tokenEnv?: string };
  upstreams: Record<string, NormalizedUpstream>;
  policies: Record<string, PolicyDescriptor>;
  routes: NormalizedRoute[];
  trust: { proxies: string[] };
  accessLog: {
    to: "off" | "stdout" | { file: string };
    sample: number;
    fields?: AccessLogField[];
  };
  /** Lower-case header names. */
  coloring: { headers: string[] };
  limits: { maxBodyBytes: number; drainTimeoutMs: number };
  demo?: { hostname: string; port: number };
  reload: { debounceMs: number; streamGraceMs: number };
}

/** One problem found while validating, with the exact config path it concerns. */
export interface ConfigIssue {
  /** Like `routes[3].match.path`. */
  path: string;
  /** What was wrong, what was found and what was expected. */
  message: string;
  severity: "error" | "warning";
}

/** Validation outcome: a usable config, or every error at once. Warnings come with either. */
export type ValidationResult =
  | { ok: true; config: NormalizedConfig; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };
