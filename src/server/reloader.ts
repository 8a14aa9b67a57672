/**
 * Hot reload of a config file: on a file change (watched folders), SIGHUP or `POST /reload`,
 * load the file in a loader Worker, validate it, and apply it. A bad file never takes the
 * gateway down: the old config keeps serving and the errors go to the log, the reload metric
 * and `/config`. Reloads are serialised; a request for one while another runs is coalesced.
 */
import { resolve } from "node:path";
import { loadConfigFile, type ModuleImporter } from "../config/load.ts";
import { contentFingerprint, localImports } from "../config/local_imports.ts";
import { type FolderWatch, watchFolders, watchTargets } from "../config/watcher.ts";
import { importInWorker } from "../config/worker_import.ts";
import { ConfigError } from "../config/config_error.ts";
import type { ConfigIssue, NormalizedConfig } from "../config/normalized.ts";
import { CustomModules } from "../policies/custom_modules.ts";
import { GatewayClosedError, type GatewayCore } from "./gateway_core.ts";

/** Why a reload ran. */
export type ReloadReason = "file" | "signal" | "admin" | "start";

/** What one reload attempt did. */
export type ReloadOutcome =
  | { result: "unchanged" }
  | { result: "success"; version: number }
  | { result: "error"; errors: { path: string; message: string }[] };

/** Reloads one config file into a gateway core. */
export class ConfigReloader {
  readonly path: string;
  #fingerprint = "";
  #files: string[] = [];
  #watch: FolderWatch | undefined;
  /** `WatchTargets.key` of the running watch. */
  #watchKey = "";
  #watching = false;
  #running: Promise<ReloadOutcome> | undefined;
  #again: Promise<ReloadOutcome> | undefined;
  #againReason: ReloadReason | undefined;
  #closed = false;
  /** Aborted by `close()`: a load still running then is stopped, not waited out. */
  readonly #abort = new AbortController();

  constructor(
    path: string,
    private readonly core: GatewayCore,
    private readonly importer: ModuleImporter = importInWorker,
  ) {
    this.path = resolve(path);
  }

  /** Loads and applies the file. At most one runs at a time; callers during one share the next. */
  reload(reason: ReloadReason): Promise<ReloadOutcome> {
    if (this.#closed) return Promise.resolve({ result: "unchanged" });
    if (!this.#running) {
      this.#running = this.#reloadOnce(reason).finally(() => this.#running = undefined);
      return this.#running;
    }
    // One more run after the current one covers every request made meanwhile. It runs as the
    // strongest of their reasons: a file event may skip an unchanged file, an operator's
    // request (admin, SIGHUP) may not, even when a file event asked first.
    if (this.#againReason === undefined || this.#againReason === "file") {
      this.#againReason = reason;
    }
    this.#again ??= this.#running.then(() => {
      const next = this.#againReason ?? reason;
      this.#again = undefined;
      this.#againReason = undefined;
      return this.reload(next);
    });
    return this.#again;
  }

  /**
   * Starts watching the config's folder and those of its local imports, then checks the files
   * once: a save made before the watch began sent no event, and would wait for the next one.
   * The check compares against {@link primed}'s fingerprint, read before the first load, so it
   * is skipped (a fingerprint, no load) when nothing was saved since.
   */
  async watch(): Promise<void> {
    this.#watching = true;
    if (!this.#files.length) this.#files = await localImports(this.path);
    await this.#rewatch(this.#files);
    await this.reload("file");
  }

  /**
   * Stops watching and accepting reloads; resolves when a reload in flight has finished. A
   * config module still loading is stopped (its Worker terminated): it would be dropped anyway,
   * and one that hangs would otherwise hold up shutdown until the loader's timeout (10 s).
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    this.#watch?.close();
    this.#watch = undefined;
    await this.#again?.catch(() => {});
    await this.#running?.catch(() => {});
  }

  /**
   * One reload that never rejects: the file watch and SIGHUP fire and forget, so a rejection
   * there would be unhandled and end the process. Failures other than validation errors (an
   * access log file that cannot be opened, a read error) are rejected configs like any other.
   */
  async #reloadOnce(reason: ReloadReason): Promise<ReloadOutcome> {
    try {
      return await this.#loadAndApply(reason);
    } catch (e) {
      const errors: ConfigIssue[] = [{
        path: "(reload)",
        message: e instanceof Error ? e.message : String(e),
        severity: "error",
      }];
      this.core.rejected(errors, this.path);
      return { result: "error", errors: [{ path: errors[0].path, message: errors[0].message }] };
    }
  }

  async #loadAndApply(reason: ReloadReason): Promise<ReloadOutcome> {
    // The config's imports plus the custom policy modules the last good config named.
    const files = [...new Set([...(await localImports(this.path)), ...this.#files])];
    // Before the no-change check: an event may be the only sign that a watched folder was
    // deleted and recreated, or that a missing one now exists, and the watch must follow.
    await this.#rewatch(files);
    const fingerprint = await contentFingerprint(files);
    // A save that changed no byte (or an event on an unrelated file) is not a reload.
    if (reason === "file" && fingerprint === this.#fingerprint) return { result: "unchanged" };
    const loaded = await loadConfigFile(this.path, this.importer, this.#abort.signal);
    if (this.#closed) return { result: "unchanged" };
    this.#fingerprint = fingerprint;
    if (!loaded.ok) {
      this.core.rejected(loaded.errors, this.path);
      return { result: "error", errors: loaded.errors };
    }
    await this.#watchFilesOf(loaded.config);
    try {
      const applied = await this.core.apply(loaded.config, loaded.hash, this.path);
      return applied.changed
        ? { result: "success", version: applied.version }
        : { result: "unchanged" };
    } catch (e) {
      if (e instanceof GatewayClosedError) return { result: "unchanged" };
      if (!(e instanceof ConfigError)) throw e;
      this.core.rejected(e.issues, this.path);
      return { result: "error", errors: e.issues };
    }
  }

  /**
   * Watches the config's local imports and its custom policy modules (named by string, not
   * imported, so the import scan alone would miss them).
   */
  async #watchFilesOf(config: NormalizedConfig): Promise<void> {
    const custom = await CustomModules.filesOf(config, CustomModules.baseFor(this.path));
    this.#files = [...new Set([...(await localImports(this.path)), ...custom])].sort();
    await this.#rewatch(this.#files);
  }

  /**
   * Watches the folders of `files` unless the running watch already covers exactly those
   * folders. A watch the OS refuses is a warning, not a failed reload: the config itself may be
   * fine, the previous watch (if any) keeps running, and the next reload tries again.
   */
  async #rewatch(files: readonly string[]): Promise<void> {
    if (!this.#watching || this.#closed) return;
    const targets = await watchTargets(files);
    if (this.#closed) return;
    if (this.#watch && !this.#watch.ended && targets.key === this.#watchKey) return;
    // Read per burst, so a reload that changes `reload.debounce` takes effect at once.
    const debounce = () => this.core.snapshot.config.reload.debounceMs;
    let next: FolderWatch;
    try {
      next = watchFolders(targets.folders, debounce, () => void this.reload("file"));
    } catch (e) {
      this.core.logger.log(
        "warn",
        "cannot watch the config's folders; still watching the old ones",
        {
          folders: targets.folders,
          error: e instanceof Error ? e.message : String(e),
        },
      );
      return;
    }
    const previous = this.#watch;
    this.#watch = next;
    this.#watchKey = targets.key;
    if (previous) {
      previous.close();
      // Closing drops the old watch's pending debounce: an event it saw just now (a save after
      // this reload read the files) would be lost. One more check, after this reload, covers
      // it; it costs a fingerprint and is skipped when nothing changed.
      void this.reload("file");
    }
  }

  /**
   * The fingerprint to seed {@link primed} with, read before the first load of `path` reads the
   * files: the order every reload keeps (fingerprint, then load).
   */
  static async fingerprintBeforeLoad(path: string): Promise<string> {
    return await contentFingerprint(await localImports(resolve(path)));
  }

  /**
   * Seeds the fingerprint, so that the first no-op event is skipped, with `beforeLoad` from
   * {@link fingerprintBeforeLoad}. Read now, after the load, it would take a save made since the
   * load for what is being served, and that save would never be loaded. Read before, such a
   * save differs from it, and the check {@link watch} makes (or the next event) loads it. When
   * the config names custom policy modules, the watched files are more than the fingerprint
   * covered, so that check loads the file once more (and applies nothing if nothing changed).
   */
  async primed(beforeLoad: string): Promise<void> {
    await this.#watchFilesOf(this.core.snapshot.config);
    this.#fingerprint = beforeLoad;
  }
}
