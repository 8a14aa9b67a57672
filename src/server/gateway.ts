/**
 * The gateway's lifecycle: validate a config, compile a snapshot, serve it on Deno.serve with an
 * admin listener, reload it, and drain on close. `createGateway` gives the same request path
 * in-process, without sockets, for users' own route tests.
 */
import { ConfigError } from "../config/config_error.ts";
import { formatIssues } from "../config/format_issues.ts";
import { configHash } from "../config/hash.ts";
import { loadConfigFile } from "../config/load.ts";
import type { NormalizedConfig } from "../config/normalized.ts";
import { validateConfig } from "../config/validate.ts";
import { importInWorker } from "../config/worker_import.ts";
import { startDemoServer } from "../demo/server.ts";
import { type Logger, quietLogger, stderrLogger } from "../observe/logger.ts";
import type { GatewayMetrics } from "../observe/metrics.ts";
import { markInProcess } from "../proxy/websocket.ts";
import { explainRequest, type Explanation } from "../routing/explain.ts";
import { createAdminApp } from "./admin.ts";
import { isLoopback } from "./loopback_host.ts";
import { type ApplyResult, GatewayClosedError, GatewayCore } from "./gateway_core.ts";
import { ConfigReloader, type ReloadOutcome } from "./reloader.ts";
import type { Snapshot } from "./snapshot.ts";

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
  /**
   * Start the demo upstream when the config asks for it. Default `true`. Only a serving gateway
   * starts it: `createGateway` opens no listeners.
   */
  demo?: boolean;
}

/** Who sent an in-process request: `Deno.serve`'s handler info, or the parts a test sets. */
export interface ClientInfo {
  /** The client's address. Default `127.0.0.1`, as for a test's own `fetch` to the listener. */
  remoteAddr?: { hostname?: string; port?: number };
}

/** An in-process gateway: the whole request path, no sockets. */
export interface Gateway {
  /**
   * Handles a request exactly as the listener would, from the client `info` names (loopback by
   * default); policies see it as `c.env.remoteAddr`, as when served. Rejects with
   * `GatewayClosedError` once `close()` was called, as a stopped listener refuses connections.
   * A body without `content-length` is handled as a streamed (chunked) one: not replayed on a
   * retry; set the header to test what a client sending a fixed-length body gets.
   *
   * A WebSocket upgrade has no client connection to take over here: once routing and the
   * route's policies let it through (a 401 or 404 comes as it would served), it is answered
   * `501` (`application/problem+json`, type `not-implemented`, "WebSocket upgrades need a
   * listener: use startGateway") and the upstream is not contacted. To test a WebSocket route,
   * serve the config with `startGateway` and connect a `WebSocket` to its `url`. A gateway
   * embedded in your own `Deno.serve` bridges upgrades when given that server's handler info:
   * `Deno.serve((req, info) => gw.fetch(req, info))`.
   */
  fetch(req: Request, info?: ClientInfo): Promise<Response>;
  /** Which route takes this request, and why earlier routes did not. */
  explain(method: string, url: string, headers?: HeadersInit): Explanation;
  /** The snapshot being served. */
  readonly snapshot: Snapshot;
  readonly metrics: GatewayMetrics;
  /** Validates and applies a new config; throws {@link ConfigError} and keeps the old one. */
  reload(config: unknown): Promise<ApplyResult>;
  /**
   * Refuses new requests, lets those in flight get their answer (bounded by the drain timeout,
   * as the listener's drain is), then releases pools, health checks and the access log. A
   * response body still being read is cut. Calling it again waits for the same close.
   */
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
  /** Reloads the config file (for gateways started from a file). */
  reloadFile?(): Promise<ReloadOutcome>;
  /**
   * Stops accepting, drains in-flight requests (bounded by the drain timeout), releases all.
   * Resolves even when a stalled client keeps a request open past the drain timeout (and 2 s
   * of grace for the admin and demo listeners): that connection is left to end on its own,
   * and `ferry start` exits anyway.
   */
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

/** Validates a config object and builds a core serving it. */
async function coreFor(config: unknown, options: GatewayOptions): Promise<GatewayCore> {
  const normalized = normalize(config, options.source);
  return await createCore(normalized, await configHash(normalized), options);
}

async function createCore(
  config: NormalizedConfig,
  hash: string,
  options: GatewayOptions,
): Promise<GatewayCore> {
  const core = new GatewayCore(
    options.logger ?? stderrLogger,
    options.env ?? ((name) => Deno.env.get(name)),
  );
  await core.apply(config, hash, options.source ?? "inline");
  return core;
}

/**
 * The requests `fetch` is handling in-process, so that `close()` can refuse new ones and let
 * these finish first, as the listener's drain does for requests it accepted.
 */
class InProcessRequests {
  readonly #pending = new Set<Promise<unknown>>();
  #stopped = false;

  run(handle: () => Promise<Response>): Promise<Response> {
    if (this.#stopped) return Promise.reject(new GatewayClosedError());
    const answer = handle();
    const settled = answer.then(() => {}, () => {});
    this.#pending.add(settled);
    settled.then(() => this.#pending.delete(settled));
    return answer;
  }

  /** Refuses new requests; resolves `true` once those in flight are answered, `false` at `ms`. */
  stop(ms: number): Promise<boolean> {
    this.#stopped = true;
    return settleWithin(Promise.all(this.#pending), ms);
  }
}

/**
 * The handler info a listener would pass with `req`: `Deno.serve`'s own is passed on as it is
 * (a gateway embedded in the caller's server); otherwise one of the same shape (`remoteAddr`
 * with `transport`), so that a policy reading `c.env.remoteAddr` (Hono's `getConnInfo`,
 * `ipRestriction`) works in a route test too. Without a listener's info, `req` came over no
 * connection a WebSocket could take over: it is marked so an upgrade is refused, not bridged.
 */
function handlerInfo(req: Request, info: ClientInfo | undefined): ClientInfo {
  const addr = info?.remoteAddr;
  if (addr && "transport" in addr && addr.hostname !== undefined) return info!;
  markInProcess(req);
  return {
    remoteAddr: {
      transport: "tcp",
      hostname: addr?.hostname ?? "127.0.0.1",
      port: addr?.port ?? 0,
    } as Deno.NetAddr,
  };
}

function inProcess<T extends { close(): Promise<void> }>(
  core: GatewayCore,
  source: string,
  extra: T,
  requests: InProcessRequests,
): Gateway & T {
  return {
    ...extra,
    get snapshot() {
      return core.snapshot;
    },
    metrics: core.metrics,
    fetch: (req, info) => requests.run(() => core.fetch(req, handlerInfo(req, info))),
    explain: (method, url, headers) => explainRequest(core.snapshot.table, method, url, headers),
    async reload(input) {
      try {
        const config = normalize(input, source);
        return await core.apply(config, await configHash(config), source);
      } catch (e) {
        // Refused at validation or when a policy was built: counted and shown as a failed
        // load (`ferry_config_reloads_total{result="error"}`, admin /config), as file reloads are.
        if (e instanceof ConfigError) core.rejected(e.issues, source);
        throw e;
      }
    },
    ...extra,
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
export async function createGateway(
  config: unknown,
  options: GatewayOptions = {},
): Promise<Gateway> {
  // In a user's `deno test`, start-up chatter is noise: only warnings and errors by default.
  options = { ...options, logger: options.logger ?? quietLogger(stderrLogger) };
  const core = await coreFor(config, options);
  const requests = new InProcessRequests();
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      // What the drain timeout bounds for a listener, it bounds here: past it, `core.close()`
      // aborts what still waits on an upstream, and those requests get a 502.
      await requests.stop(core.snapshot.config.limits.drainTimeoutMs);
      await core.close();
    })();
  return inProcess(core, options.source ?? "inline", { close }, requests);
}

/** Validates `config`, then serves it. Throws {@link ConfigError} when the config is invalid. */
export async function startGateway(
  config: unknown,
  options: GatewayOptions = {},
): Promise<GatewayHandle> {
  return serve(await coreFor(config, options), options);
}

/** Options for serving a config file. */
export interface FileGatewayOptions extends GatewayOptions {
  /** Reload when the file or a module it imports changes. Default `true`. */
  watch?: boolean;
}

/**
 * Loads `path` (in a Worker, like every reload), serves it, and reloads it on file changes,
 * `reloadFile()` and admin `POST /reload`. Throws {@link ConfigError} when the file is invalid.
 */
export async function serveFile(
  path: string,
  options: FileGatewayOptions = {},
): Promise<GatewayHandle> {
  // Before the load reads the files, as on every reload: see `ConfigReloader.primed`.
  const beforeLoad = await ConfigReloader.fingerprintBeforeLoad(path);
  const loaded = await loadConfigFile(path, importInWorker);
  if (!loaded.ok) {
    throw new ConfigError(
      loaded.errors,
      formatIssues([...loaded.errors, ...loaded.warnings], path),
    );
  }
  const core = await createCore(loaded.config, loaded.hash, { ...options, source: path });
  if (loaded.warnings.length) {
    core.logger.log("warn", "config warnings", {
      warnings: loaded.warnings.map((w) => `${w.path}: ${w.message}`),
    });
  }
  const reloader = new ConfigReloader(path, core);
  await reloader.primed(beforeLoad);
  if (options.watch !== false) await reloader.watch();
  return serve(core, { ...options, source: path }, reloader);
}

async function serve(
  core: GatewayCore,
  options: GatewayOptions,
  reloader?: ConfigReloader,
): Promise<GatewayHandle> {
  const cfg = core.snapshot.config;
  const { logger } = core;
  let draining = false;

  let demo: Deno.HttpServer<Deno.NetAddr> | undefined;
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let admin: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    if (cfg.demo && options.demo !== false) {
      demo = startDemoServer(cfg.demo.hostname, cfg.demo.port);
    }
    const listen = { ...cfg.listen, ...options.listen };
    server = Deno.serve(
      { hostname: listen.hostname, port: listen.port, onListen() {} },
      core.fetch,
    );
    if (options.admin !== false && cfg.admin.enabled) {
      const a = { hostname: cfg.admin.hostname, port: cfg.admin.port, ...options.admin };
      const token = cfg.admin.tokenEnv ? adminToken(cfg.admin.tokenEnv, core.env) : undefined;
      const app = createAdminApp({
        current: () => core.snapshot,
        metrics: core.metrics,
        draining: () => draining,
        lastLoad: () => core.lastLoad,
        reload: reloader ? () => reloader.reload("admin") : undefined,
        token,
        loopbackOnly: a.hostname === "localhost" || isLoopback(a.hostname),
      });
      admin = Deno.serve({ hostname: a.hostname, port: a.port, onListen() {} }, app.fetch);
    }
  } catch (error) {
    // A port in use, say: what did start is stopped, and the upstreams' health probes, pools
    // and the file watch go with it, or an embedding program would keep them running.
    await Promise.allSettled([demo?.shutdown(), server?.shutdown(), admin?.shutdown()]);
    await reloader?.close();
    await core.close();
    throw error;
  }
  const url = urlOf(server.addr);
  logger.log("info", "ferry serving", {
    url,
    admin: admin ? urlOf(admin.addr) : undefined,
    routes: cfg.routes.length,
    upstreams: Object.keys(cfg.upstreams).length,
    hash: core.snapshot.hash,
  });

  const requests = new InProcessRequests();
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      draining = true;
      await reloader?.close();
      const drainMs = core.snapshot.config.limits.drainTimeoutMs;
      // Requests made with `handle.fetch` drain alongside those the listener accepted.
      const drained = await settleWithin(
        Promise.all([server.shutdown(), requests.stop(drainMs)]),
        drainMs,
      );
      if (!drained) {
        // Streams and sockets that outlive the drain are cut, so shutdown cannot hang forever.
        logger.log("warn", "drain timeout reached; closing remaining streams", {
          drainTimeoutMs: drainMs,
          open: core.live.size,
        });
        await core.close();
        await settleWithin(server.finished, 2_000);
      }
      // A graceful shutdown waits for every request to finish, and a client that never sends
      // the rest of a request body (to `/reload`, or to the demo's echo) never lets one finish:
      // the side listeners get a bounded grace too, or SIGTERM would never end the process.
      const sidesClosed = await settleWithin(
        Promise.all([admin?.shutdown(), demo?.shutdown()]),
        SIDE_LISTENER_GRACE_MS,
      );
      if (!sidesClosed) {
        logger.log("warn", "admin or demo listener still had open requests; leaving them", {
          graceMs: SIDE_LISTENER_GRACE_MS,
        });
      }
      await core.close();
      logger.log("info", "ferry stopped", { drained });
    })();

  return inProcess(core, options.source ?? "inline", {
    url,
    adminUrl: admin ? urlOf(admin.addr) : undefined,
    demoUrl: demo ? urlOf(demo.addr) : undefined,
    reloadFile: reloader ? () => reloader.reload("admin") : undefined,
    close,
  }, requests);
}

/**
 * How long `close()` waits for the admin and demo listeners once the proxy listener has drained.
 * Their requests are short; one still open after this is a client that stalled.
 */
const SIDE_LISTENER_GRACE_MS = 2_000;

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

/**
 * The admin token from the variable `admin.tokenEnv` names. An unset or empty variable is an
 * error at start, as for `keysEnv` and `usersEnv`: left undefined, every remote reload would be
 * refused with 403 and nothing would say why.
 */
function adminToken(name: string, env: (name: string) => string | undefined): string {
  const token = env(name);
  if (!token) {
    throw new Error(
      `admin.tokenEnv names ${name}, which is ${token === "" ? "empty" : "not set"}: ` +
        "set it, or remove admin.tokenEnv",
    );
  }
  return token;
}
