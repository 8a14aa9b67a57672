/**
 * Loads config modules in a reused Worker. A new Worker per load sees every edit, but costs
 * ~60 ms and leaves native memory behind (~8 MB over the first 1,000 Workers), while importing
 * `config.ts?v=n` in one isolate keeps every version's module record; so one Worker serves many
 * loads, each under a new URL, and is replaced:
 *
 * - when a nested local module it has imported changed since it first imported it (the entry
 *   gets a new URL every load and is always fresh; nested modules stay cached);
 * - after `maxLoadsPerWorker` loads, which frees the entry versions it accumulated in bulk;
 * - after any failed load (a timeout, a throw, a syntax error): a module that failed to
 *   evaluate stays failed in that Worker's cache, and a hung one keeps running;
 * - for a config whose nested modules import it back (see `NestedModules.importsEntry`),
 *   which always gets a one-off Worker, exactly as before reuse.
 *
 * At most one Worker is kept idle; a load that finds it busy starts another.
 */
import type { ImportOutcome } from "./import_module.ts";
import { LoaderWorker } from "./loader_worker.ts";
import { nestedModules } from "./nested_modules.ts";

/**
 * Loads per Worker before it is replaced. Each load leaves one version of the entry module in
 * the Worker's heap (~13-33 KB), freed only with the Worker, while each Worker started leaves a
 * little native memory behind. In bench/reload_memory.ts 50 did at least as well as 25, 100 and
 * 200 (the differences were within run-to-run noise); never replacing costs ~33 KB a load.
 */
export const DEFAULT_MAX_LOADS_PER_WORKER = 50;

/** A Worker kept for reuse, with the nested modules it has cached. */
interface Reusable {
  worker: LoaderWorker;
  /** Hash of each nested module when this Worker first imported it. */
  seen: Map<string, string>;
}

/** Hands config loads to a reused loader Worker. */
export class ConfigLoaderPool {
  readonly #maxLoads: number;
  #idle: Reusable | undefined;
  #started = 0;
  /** Workers told to stop whose threads have not exited yet. */
  readonly #stopping = new Set<LoaderWorker>();

  constructor(maxLoadsPerWorker = DEFAULT_MAX_LOADS_PER_WORKER) {
    this.#maxLoads = maxLoadsPerWorker;
  }

  /** Workers started so far (for tests and measurements). */
  get workersStarted(): number {
    return this.#started;
  }

  /**
   * Imports `absolutePath` and takes its default export; see the module comment. A load whose
   * `signal` aborts fails at once and its Worker is terminated, like one that timed out.
   */
  async load(
    absolutePath: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ImportOutcome> {
    const nested = await nestedModules(absolutePath);
    if (signal?.aborted) return CANCELLED;
    const oneOff = nested.importsEntry;
    const slot = oneOff ? this.#start() : this.#take(nested.hashes);
    const outcome = await slot.worker.load(absolutePath, timeoutMs, oneOff, signal);
    // Hashed before the import: an edit racing it makes the next load see a mismatch and
    // replace the Worker, never the reverse.
    for (const [file, hash] of nested.hashes) if (!slot.seen.has(file)) slot.seen.set(file, hash);
    const keep = !oneOff && outcome.ok && slot.worker.alive &&
      slot.worker.loads < this.#maxLoads && !this.#idle;
    if (keep) this.#idle = slot;
    else this.#retire(slot.worker);
    return outcome;
  }

  /** Terminates the idle Worker, if any. Loads after this start a new one. */
  close(): void {
    if (this.#idle) this.#retire(this.#idle.worker);
    this.#idle = undefined;
  }

  /** Workers retired whose threads have not exited yet (for tests and measurements). */
  get workersStopping(): number {
    return this.#stopping.size;
  }

  /**
   * Settles when every Worker this pool retired so far has exited. A memory measurement waits
   * for it, so that it does not count an isolate that is still being torn down.
   */
  async retired(): Promise<void> {
    await Promise.all([...this.#stopping].map((worker) => worker.exited));
  }

  #retire(worker: LoaderWorker): void {
    worker.terminate();
    this.#stopping.add(worker);
    worker.exited.then(() => this.#stopping.delete(worker));
  }

  /** The idle Worker if every nested module it cached is unchanged, else a new one. */
  #take(hashes: Map<string, string>): Reusable {
    const idle = this.#idle;
    this.#idle = undefined;
    if (idle?.worker.alive && isCurrent(idle.seen, hashes)) return idle;
    if (idle) this.#retire(idle.worker);
    return this.#start();
  }

  #start(): Reusable {
    this.#started++;
    return { worker: new LoaderWorker(), seen: new Map() };
  }
}

const CANCELLED: ImportOutcome = { ok: false, message: "the config load was cancelled" };

/** False when a module about to be imported differs from the version `seen` cached. */
function isCurrent(seen: Map<string, string>, hashes: Map<string, string>): boolean {
  for (const [file, hash] of hashes) {
    const cached = seen.get(file);
    if (cached !== undefined && cached !== hash) return false;
  }
  return true;
}
