/**
 * The part of a gateway that outlives config snapshots: metrics, upstream runtimes (pools,
 * balancer and target state), open streams, the access log. `apply` compiles a new config and
 * swaps it in atomically; requests already running finish on the snapshot they started with.
 */
import { affectedRoutes, type ConfigDiff, diffConfigs, diffSummary } from "../config/diff.ts";
import type { ConfigIssue, NormalizedConfig } from "../config/normalized.ts";
import { type AccessLog, openAccessLog } from "../observe/access_log.ts";
import type { Logger } from "../observe/logger.ts";
import { GatewayMetrics } from "../observe/metrics.ts";
import { ConfigError } from "../config/config_error.ts";
import { CustomModuleError, CustomModules } from "../policies/custom_modules.ts";
import { LiveConnections, type LiveEntry } from "../proxy/live.ts";
import { UpstreamReporter } from "../observe/upstream_reporter.ts";
import { PolicyBuildError } from "./snapshot.ts";
import { SharedState } from "../policies/shared_state.ts";
import type { Tracing } from "../observe/tracing.ts";
import { tracingFromEnvironment } from "../observe/tracing_setup.ts";
import { TrafficRegistry } from "../traffic/registry.ts";
import { UpstreamRegistry } from "../upstream/registry.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import { MirrorRegistry } from "../traffic/mirror_registry.ts";
import type { LoadStatus } from "./admin.ts";
import { buildSnapshot, type Snapshot, type SnapshotServices } from "./snapshot.ts";

/** A config arrived after the gateway closed: it is dropped. */
export class GatewayClosedError extends Error {
  constructor() {
    super("the gateway is closed");
    this.name = "GatewayClosedError";
  }
}

/** The result of applying a config. */
export interface ApplyResult {
  /** False when the config was identical to the one being served (nothing swapped). */
  changed: boolean;
  version: number;
  diff: ConfigDiff;
}

/** Long-lived services and the current snapshot. */
export class GatewayCore {
  readonly metrics: GatewayMetrics = new GatewayMetrics();
  readonly upstreams: UpstreamRegistry;
  /** Mirroring counters, slots and recent mismatches by route, kept across reloads. */
  readonly mirrors: MirrorRegistry;
  readonly live: LiveConnections = new LiveConnections();
  readonly shared: SharedState = new SharedState();
  /** Split round-robin positions, carried across reloads that leave a split unchanged. */
  readonly traffic: TrafficRegistry = new TrafficRegistry();
  readonly tracing: Tracing;
  #snapshot: Snapshot | undefined;
  #accessLog: AccessLog | undefined;
  #accessLogKey = "";
  /** Deferred closes of what reloads retired, by their timer: `close()` runs those still due. */
  #deferred = new Map<ReturnType<typeof setTimeout>, () => unknown>();
  readonly #custom = new CustomModules();
  #closed = false;
  #appliedKey = "";
  lastLoad: LoadStatus = { at: new Date().toISOString(), result: "success" };

  constructor(
    readonly logger: Logger,
    readonly env: (name: string) => string | undefined,
  ) {
    const reporter = new UpstreamReporter(
      this.metrics.registry,
      logger,
      () => this.upstreams.runtimes(),
    );
    this.upstreams = new UpstreamRegistry(reporter);
    this.tracing = tracingFromEnvironment(env, logger);
    if (this.tracing.pipeline) this.metrics.watchTraceExport(this.tracing.pipeline.exporter);
    this.mirrors = new MirrorRegistry(this.metrics.registry, logger);
    this.metrics.watchLive(this.live);
  }

  /** The snapshot being served. */
  get snapshot(): Snapshot {
    if (!this.#snapshot) throw new Error("no config applied yet");
    return this.#snapshot;
  }

  /** Handles a request on the current snapshot. */
  fetch = (req: Request, info?: unknown): Promise<Response> => this.snapshot.fetch(req, info);

  /** Compiles `config` and swaps it in. Throws only on bugs (the config is validated). */
  async apply(config: NormalizedConfig, hash: string, source: string): Promise<ApplyResult> {
    if (this.#closed) throw new GatewayClosedError();
    const previous = this.#snapshot;
    const diff = diffConfigs(previous?.config, config);
    let custom;
    try {
      custom = await this.#custom.prepare(config, CustomModules.baseFor(source));
    } catch (e) {
      if (!(e instanceof CustomModuleError)) throw e;
      throw new ConfigError(
        [{ path: e.path, message: e.message, severity: "error" }],
        `error   ${e.path}: ${e.message}`,
      );
    }
    // A custom policy module can change while the config does not: both decide "unchanged".
    const key = `${hash}|${custom.fingerprint}`;
    if (previous && this.#appliedKey === key) {
      this.lastLoad = { at: new Date().toISOString(), result: "success" };
      return { changed: false, version: previous.version, diff };
    }
    // Loading took time: the gateway may have closed meanwhile, and must not grow again.
    if (this.#closed) throw new GatewayClosedError();
    const version = (previous?.version ?? 0) + 1;
    // Opened, not yet installed: until the build succeeds, the served config keeps its own log.
    const { log: accessLog, fresh: freshLog } = await this.#accessLogFor(config);
    if (this.#closed) {
      // `close()` ran while the log opened: nobody would ever close this one.
      if (freshLog) await accessLog.close();
      throw new GatewayClosedError();
    }
    const services: SnapshotServices = {
      upstreams: this.upstreams,
      live: this.live,
      metrics: this.metrics,
      accessLog,
      env: this.env,
      shared: this.shared,
      traffic: this.traffic,
      logger: this.logger,
      mirrors: this.mirrors,
      tracing: this.tracing,
      customModule: custom.lookup,
      onError: (error, requestId) =>
        this.logger.log("error", "request failed inside the gateway", {
          requestId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }),
    };
    // A policy may refuse its options only now (a secret missing from the environment): that is
    // a config error like any other, and nothing of the half-built snapshot is kept.
    let next: Snapshot;
    this.shared.beginBuild();
    try {
      next = buildSnapshot(config, { version, hash, source, loadedAt: new Date() }, services);
    } catch (error) {
      // The old config keeps serving, and keeps writing to its own log; the new one is unused.
      if (freshLog) await accessLog.close();
      await this.shared.abandonBuild();
      // Upstreams the failed build created serve nothing: close them now (the snapshot that
      // keeps serving, if any, still has its own).
      const unused = this.upstreams.retainOnly(new Set(previous?.upstreams.values()));
      for (const upstream of unused) upstream.close();
      if (!(error instanceof PolicyBuildError)) throw error;
      throw new ConfigError(
        [{ path: error.path, message: error.message, severity: "error" }],
        `error   ${error.path}: ${error.message}`,
      );
    }
    this.#appliedKey = key;
    this.lastLoad = { at: new Date().toISOString(), result: "success" };
    if (freshLog) this.#installAccessLog(accessLog, config);
    this.#snapshot = next; // the swap: one reference, taken by each request as it arrives
    // Only now: had the build failed, the previous snapshot's routes would still be served.
    this.mirrors.retainOnly(new Set(config.routes.filter((r) => r.mirror).map((r) => r.name)));
    // Shared state (JWKS caches, verified-token memos) no route of this config uses any more is
    // closed after the grace period, like retired upstreams.
    const closeRetiredShared = this.shared.commitBuild();
    if (closeRetiredShared) {
      this.#later(config.reload.streamGraceMs, () => closeRetiredShared());
    }
    this.metrics.setConfig(version, hash);
    // In the same turn as the swap: no request can record on a name this config removed first.
    this.metrics.retainConfig(config);
    this.metrics.reloads.labels("success").inc();

    if (previous) {
      const grace = config.reload.streamGraceMs;
      const retired = this.upstreams.retainOnly(new Set(next.upstreams.values()));
      // Only what is open now, on the old definitions: streams opened after the swap are
      // on the new config and must not be cut by this reload's timer.
      const stale = this.live.openOn(affectedRoutes(diff));
      // In-flight requests on the old snapshot keep their pools until the grace period ends.
      // No timer when there is nothing to close: each one would hold this reload's state for
      // the whole grace period (30 s by default), which adds up when reloads come fast.
      if (retired.length > 0 || stale.length > 0) this.#closeAfterGrace(grace, retired, stale);
    }
    this.logger.log("info", previous ? "config reloaded" : "config loaded", {
      version,
      hash,
      source,
      changes: diffSummary(diff),
    });
    return { changed: true, version, diff };
  }

  /** Records a config that could not be loaded: the current snapshot keeps serving. */
  rejected(errors: ConfigIssue[], source: string): void {
    this.lastLoad = {
      at: new Date().toISOString(),
      result: "error",
      errors: errors.map(({ path, message }) => ({ path, message })),
    };
    this.metrics.reloads.labels("error").inc();
    this.logger.log("error", "config rejected; still serving the previous one", {
      source,
      version: this.#snapshot?.version,
      errors: errors.map((e) => `${e.path}: ${e.message}`),
    });
  }

  /** Releases everything (after the listener has drained). */
  async close(): Promise<void> {
    this.#closed = true;
    // What reloads retired closes now rather than never: a gateway shut down within the grace
    // period would otherwise leave old upstreams probing their targets with their pools open,
    // and an old access log's queued lines unwritten.
    const due = [...this.#deferred.values()];
    for (const timer of this.#deferred.keys()) clearTimeout(timer);
    this.#deferred.clear();
    await Promise.allSettled(due.map(async (action) => await action()));
    this.live.closeAll(1001, "gateway shutting down");
    await this.mirrors.close(); // before the pools they use
    this.upstreams.closeAll();
    await this.shared.close();
    await this.#accessLog?.close();
    await this.tracing.flush();
    this.metrics.close();
  }

  /**
   * The access log `config` asks for: the one in use when its settings did not change, else a
   * newly opened one (`fresh`) that {@link #installAccessLog} makes current once the config's
   * snapshot has been built. Opening changes nothing: a build that fails after it must leave
   * the served config writing to its own log.
   */
  async #accessLogFor(config: NormalizedConfig): Promise<{ log: AccessLog; fresh: boolean }> {
    if (this.#accessLog && accessLogKey(config) === this.#accessLogKey) {
      return { log: this.#accessLog, fresh: false };
    }
    try {
      return { log: await openAccessLog(config.accessLog.to, config.accessLog), fresh: true };
    } catch (error) {
      // A folder that does not exist, no write permission: a config error like any other, named
      // at its path, at start as on reload (the old log, if any, stays in use).
      const message = `cannot open the access log: ${
        error instanceof Error ? error.message : String(error)
      }`;
      throw new ConfigError(
        [{ path: "accessLog.to", message, severity: "error" }],
        `error   accessLog.to: ${message}`,
      );
    }
  }

  /** Makes `log` current; the one it replaces closes after the grace period, when the old
   * snapshot's in-flight requests have written their lines. */
  #installAccessLog(log: AccessLog, config: NormalizedConfig): void {
    const previous = this.#accessLog;
    this.#accessLog = log;
    this.#accessLogKey = accessLogKey(config);
    if (previous) this.#later(config.reload.streamGraceMs, () => previous.close());
  }

  /** Closes what a reload retired, after the grace period. Kept out of `apply`'s scope, so
   * that the timer's closure holds only these, not the snapshots and diff `apply` saw. */
  #closeAfterGrace(grace: number, retired: UpstreamRuntime[], stale: LiveEntry[]): void {
    this.#later(grace, () => {
      for (const upstream of retired) upstream.close();
      const closed = this.live.close(stale, 1001, "route changed by a reload");
      if (closed) this.logger.log("info", "closed streams of changed routes", { closed });
    });
  }

  /** Runs `action` after `ms`, or at `close()` if that comes first. */
  #later(ms: number, action: () => unknown): void {
    const timer = setTimeout(() => {
      this.#deferred.delete(timer);
      void action();
    }, ms);
    this.#deferred.set(timer, action);
  }
}

function accessLogKey(config: NormalizedConfig): string {
  return JSON.stringify(config.accessLog);
}
