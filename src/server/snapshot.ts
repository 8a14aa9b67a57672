/**
 * A snapshot: everything derived from one validated config, built once and then only read.
 * The listener holds one reference to the current snapshot and swaps it atomically; requests
 * finish on the snapshot they started on.
 */
import type { NormalizedConfig } from "../config/normalized.ts";
import type { AccessLog } from "../observe/access_log.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import { composeChain, type RouteChain, type Terminal } from "../policies/chain.ts";
import type { PolicyMiddleware } from "../policies/policy.ts";
import type { SharedState } from "../policies/shared_state.ts";
import type { Logger } from "../observe/logger.ts";
import type { Tracing } from "../observe/tracing.ts";
import { policyDefinitions } from "../policies/registry.ts";
import { CidrSet } from "../proxy/cidr.ts";
import { forward } from "../proxy/forward.ts";
import type { LiveConnections } from "../proxy/live.ts";
import { ForwardedResolver } from "../proxy/forwarded.ts";
import { createProxyHandler } from "../proxy/handler.ts";
import { redirectResponse } from "../proxy/redirect.ts";
import { splitUrl } from "../routing/request_view.ts";
import { RouteTable } from "../routing/route_table.ts";
import { RouteMirror, withMirror } from "../traffic/mirror.ts";
import type { MirrorRegistry } from "../traffic/mirror_registry.ts";
import { hasTrafficDecision, TrafficDecision } from "../traffic/decision.ts";
import type { TrafficRegistry } from "../traffic/registry.ts";
import type { UpstreamRegistry } from "../upstream/registry.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";

/** Identity of a loaded config. */
export interface ConfigIdentity {
  version: number;
  hash: string;
  source: string;
  loadedAt: Date;
}

/** One immutable, compiled config. */
export interface Snapshot extends ConfigIdentity {
  readonly config: NormalizedConfig;
  readonly table: RouteTable;
  readonly upstreams: ReadonlyMap<string, UpstreamRuntime>;
  /** Mirroring state by route (long-lived; admin `/mirror` reads it). */
  readonly mirrors: MirrorRegistry;
  /** Handles one request (Deno.serve's handler info as the second argument). */
  fetch(req: Request, info?: unknown): Promise<Response>;
}

/** Long-lived services a snapshot uses. */
export interface SnapshotServices {
  upstreams: UpstreamRegistry;
  live: LiveConnections;
  metrics: GatewayMetrics;
  accessLog: AccessLog;
  env(name: string): string | undefined;
  /** Policy state that outlives snapshots. */
  shared: SharedState;
  tracing: Tracing;
  /** Split round-robin positions that outlive snapshots. */
  traffic: TrafficRegistry;
  logger: Logger;
  /** Mirroring state that outlives snapshots. */
  mirrors: MirrorRegistry;
  /** Preloaded `custom` policy factories by module specifier. */
  customModule?(specifier: string): (options: Record<string, unknown>) => PolicyMiddleware;
  onError(error: unknown, requestId: string): void;
}

/** Compiles `config` into a snapshot. Throws only on bugs: the config is already validated. */
export function buildSnapshot(
  config: NormalizedConfig,
  identity: ConfigIdentity,
  services: SnapshotServices,
): Snapshot {
  const table = new RouteTable(config.routes);
  // Policies first: one may still refuse its options (a secret missing from the environment),
  // and then nothing long-lived (upstream runtimes, traffic state) has been touched yet.
  const routePolicies = table.routes.map(({ config: route }) =>
    route.use.map((entry, i) => ({
      name: entry.ref ?? `${route.name}.use[${i}]`,
      middleware: buildPolicyAt(`routes[${route.index}].use[${i}]`, entry.descriptor, services),
    }))
  );
  const upstreams = new Map<string, UpstreamRuntime>();
  for (const [name, up] of Object.entries(config.upstreams)) {
    upstreams.set(name, services.upstreams.obtain(up));
  }
  const forwardEnv = {
    maxBodyBytes: config.limits.maxBodyBytes,
    live: services.live,
    tracing: services.tracing,
    metrics: services.metrics,
    logger: services.logger,
  };
  const chains: RouteChain[] = table.routes.map(({ config: route }, position) => {
    const policies = routePolicies[position];
    let terminal: Terminal;
    if (route.redirect) {
      terminal = (req, state) => {
        const url = splitUrl(req.url);
        return redirectResponse(route, state, url.path, url.query);
      };
    } else if (hasTrafficDecision(route)) {
      // Split and canary routes choose their upstream first; plain routes skip this entirely.
      const decision = new TrafficDecision(route, services.traffic, (name) => upstreams.get(name)!);
      terminal = (req, state) =>
        forward(req, state, decision.choose(req, state).runtime, forwardEnv);
    } else {
      const upstream = upstreams.get(route.upstream!)!;
      terminal = (req, state) => forward(req, state, upstream, forwardEnv);
    }
    if (route.mirror) {
      const shadow = upstreams.get(route.mirror.upstream)!;
      const mirror = new RouteMirror(
        route.name,
        route.mirror,
        shadow,
        services.mirrors,
        config.limits.maxBodyBytes,
      );
      terminal = withMirror(terminal, mirror);
    }
    return composeChain(policies, terminal);
  });
  services.traffic.retainOnly(new Set(config.routes.filter((r) => r.split).map((r) => r.name)));
  const handler = createProxyHandler({
    table,
    chains,
    forwarded: new ForwardedResolver(new CidrSet(config.trust.proxies)),
    metrics: services.metrics,
    accessLog: services.accessLog,
    tracing: services.tracing,
    colorHeaders: config.coloring.headers,
    onError: services.onError,
  });
  return { ...identity, config, table, upstreams, mirrors: services.mirrors, fetch: handler };
}

/** A policy refused to build (a missing secret, say), with the config path of its use. */
export class PolicyBuildError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = "PolicyBuildError";
  }
}

function buildPolicyAt(
  path: string,
  descriptor: { kind: string; options: unknown },
  services: SnapshotServices,
): PolicyMiddleware {
  try {
    return buildPolicy(descriptor.kind, descriptor.options, services);
  } catch (error) {
    throw new PolicyBuildError(path, error instanceof Error ? error.message : String(error));
  }
}

function buildPolicy(kind: string, options: unknown, services: SnapshotServices): PolicyMiddleware {
  const definition = policyDefinitions.get(kind);
  if (!definition) throw new Error(`unknown policy kind "${kind}" passed validation`);
  return definition.create(options, {
    env: services.env,
    customModule: services.customModule,
    shared: (key, create) => services.shared.get(key, create),
    metrics: services.metrics.registry,
    logger: services.logger,
  });
}
