/**
 * The gateway's lifecycle: validate a config, compile a snapshot, serve it on Deno.serve with an
 * admin listener, and drain on close. `createGateway` gives the same request path in-process,
 * without sockets, for users' own route tests.
 */
import { ConfigError } from "../config/config_error.ts";
import { formatIssues } from "../config/format_issues.ts";
import { configHash } from "../config/hash.ts";
import type { NormalizedConfig } from "../config/normalized.ts";
import { validateConfig } from "../config/validate.ts";
import { startDemoServer } from "../demo/server.ts";
import { type AccessLog, openAccessLog } from "../observe/access_log.ts";
import { type Logger, stderrLogger } from "../observe/logger.ts";
import { GatewayMetrics } from "../observe/metrics.ts";
import { openBridges } from "../proxy/websocket.ts";
import { explain, type Explanation } from "../routing/explain.ts";
import { matchInput } from "../routing/request_view.ts";
import { UpstreamRegistry } from "../upstream/registry.ts";
import { createAdminApp, type LoadStatus } from "./admin.ts";
import { buildSnapshot, type Snapshot } from "./snapshot.ts";

/** Options that override what the config says (tests use port 0). */
export interface GatewayOptions {
  /** Overrides `config.listen`. */
  listen?: { hostname?: string; port?: number };
  /** Overrides `config.admin`; `false` disables the admin listener. */
  admin?: { hostname?: string; port?: number } | false;
  /** Shown on `/config`: where the config came from. Default `"inline"`. */
  source?: string;
  /** Ferry's own log. Default: JSON lines on stderr. */
  logger?: Logger;
  /** Reads environment variables for policies. Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Start the demo upstream when the config asks for it. Default `true`. */
  demo?: boolean;
}

/** An in-process gateway: the whole request path, no sockets. */
export interface Gateway {
  /** Handles a request exactly as the listener would. */
  fetch(req: Request, info?: { remoteAddr?: { hostname?: string } }): Promise<Response>;
  /** Which route takes this request, and why earlier routes did not. */
  explain(method: string, url: string, headers?: HeadersInit): Explanation;
  /** The snapshot being served. */
  readonly snapshot: Snapshot;
  readonly metrics: GatewayMetrics;
  /** Releases pools and the access log. */
  close(): Promise<void>;
}

/** A serving gateway. */
export interface GatewayHandle extends Gateway {
  /** `http://127.0.0.1:8080` */
  readonly url: string;
  /** The admin listener's URL, when enabled. */
  readonly adminUrl?: string;
  /** The demo upstream's URL, when started. */
  readonly demoUrl?: string;
  /** Stops accepting, drains in-flight requests (bounded by the drain timeout), releases all. */
  close(): Promise<void>;
}

/** Validates `input` into a normalized config, or throws {@link ConfigError} with every issue. */
export function normalize(input: unknown, source = "inline"): NormalizedConfig {
  const result = validateConfig(input);
  if (!result.ok) {
    throw new ConfigError(
      result.errors,
      formatIssues([...result.errors, ...result.warnings], source),
    );
  }
  return result.config;
}

interface Core extends Gateway {
  services: { upstreams: UpstreamRegistry; accessLog: AccessLog; logger: Logger };
  lastLoad: LoadStatus;
}

async function createCore(config: NormalizedConfig, options: GatewayOptions): Promise<Core> {
  const source = options.source ?? "inline";
  const logger = options.logger ?? stderrLogger;
  const metrics = new GatewayMetrics();
  const upstreams = new UpstreamRegistry();
  const accessLog = await openAccessLog(config.accessLog.to);
  const hash = await configHash(config);
  const snapshot = buildSnapshot(config, { version: 1, hash, source, loadedAt: new Date() }, {
    upstreams,
    metrics,
    accessLog,
    env: options.env ?? ((name) => Deno.env.get(name)),
    onError: (error, requestId) =>
      logger.log("error", "request failed inside the gateway", {
        requestId,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }),
  });
  metrics.setConfig(1, hash);
  metrics.reloads.labels("success").inc();
  return {
    snapshot,
    metrics,
    services: { upstreams, accessLog, logger },
    lastLoad: { at: new Date().toISOString(), result: "success" },
    fetch: async (req, info) => await snapshot.fetch(req, info),
    explain: (method, url, headers) =>
      explain(snapshot.table, matchInput(method.toUpperCase(), url, new Headers(headers))),
    async close() {
      upstreams.closeAll();
      await accessLog.close();
    },
  };
}

/**
 * Builds a gateway without listening: `fetch` runs the full request path. Use it to test routes
 * in `deno test`.
 *
 * @example
 * ```ts
 * const gw = await createGateway(config);
 * const res = await gw.fetch(new Request("http://localhost/api/users"));
 * await gw.close();
 * ```
 */
export function createGateway(config: unknown, options: GatewayOptions = {}): Promise<Gateway> {
  return createCore(normalize(config, options.source), options);
}

/** Validates `config`, then serves it. Throws {@link ConfigError} when the config is invalid. */
export function startGateway(
  config: unknown,
  options: GatewayOptions = {},
): Promise<GatewayHandle> {
  return serveNormalized(normalize(config, options.source), options);
}

/** Serves an already validated config (the CLI loads and validates files itself). */
export async function serveNormalized(
  config: NormalizedConfig,
  options: GatewayOptions = {},
): Promise<GatewayHandle> {
  const core = await createCore(config, options);
  const cfg = core.snapshot.config;
  const { logger } = core.services;
  let draining = false;

  let demo: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (cfg.demo && options.demo !== false) demo = startDemoServer(cfg.demo.hostname, cfg.demo.port);

  const listen = { ...cfg.listen, ...options.listen };
  const server = Deno.serve(
    { hostname: listen.hostname, port: listen.port, onListen() {} },
    (req, info) => core.snapshot.fetch(req, info),
  );
  let admin: Deno.HttpServer<Deno.NetAddr> | undefined;
  if (options.admin !== false && cfg.admin.enabled) {
    const a = { hostname: cfg.admin.hostname, port: cfg.admin.port, ...options.admin };
    const app = createAdminApp({
      current: () => core.snapshot,
      metrics: core.metrics,
      draining: () => draining,
      lastLoad: () => core.lastLoad,
    });
    admin = Deno.serve({ hostname: a.hostname, port: a.port, onListen() {} }, app.fetch);
  }
  const url = urlOf(server.addr);
  logger.log("info", "ferry serving", {
    url,
    admin: admin ? urlOf(admin.addr) : undefined,
    routes: cfg.routes.length,
    upstreams: Object.keys(cfg.upstreams).length,
    hash: core.snapshot.hash,
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      draining = true;
      const drained = await settleWithin(server.shutdown(), cfg.limits.drainTimeoutMs);
      if (!drained) {
        // Streams and sockets that outlive the drain are cut, so shutdown cannot hang forever.
        logger.log("warn", "drain timeout reached; closing remaining streams", {
          drainTimeoutMs: cfg.limits.drainTimeoutMs,
        });
        for (const bridge of openBridges) bridge.close(1001, "gateway shutting down");
        core.services.upstreams.closeAll();
        await settleWithin(server.finished, 2_000);
      }
      for (const bridge of openBridges) bridge.close(1001, "gateway shutting down");
      await Promise.all([admin?.shutdown(), demo?.shutdown()]);
      await core.close();
      logger.log("info", "ferry stopped", { drained });
    })();

  return {
    ...core,
    get snapshot() {
      return core.snapshot;
    },
    url,
    adminUrl: admin ? urlOf(admin.addr) : undefined,
    demoUrl: demo ? urlOf(demo.addr) : undefined,
    close,
  };
}

function urlOf(addr: Deno.NetAddr): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `http://${host}:${addr.port}`;
}

/** Resolves `true` if `p` settles within `ms`, else `false`; the timer never outlives it. */
async function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
