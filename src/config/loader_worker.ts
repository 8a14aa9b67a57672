/**
 * One config loader Worker (running `config_worker.ts`) that can import many configs, one at a
 * time. It is a `node:worker_threads` Worker because that kind can be `unref()`ed: an idle
 * loader must never keep the process alive (a CLI that loads a config and returns, a test that
 * closes its gateway), and a web Worker has no public way to say so. It is referenced only
 * while a load is running, so a `serveFile` awaiting its first load cannot exit under it.
 */
import { Worker } from "node:worker_threads";
import type { ImportOutcome } from "./import_module.ts";
import type { LoadRequest } from "./config_worker.ts";

const WORKER_MODULE = new URL("./config_worker.ts", import.meta.url).href;
// node:worker_threads accepts only file: and data: URLs, while Ferry may itself be imported
// from https: or jsr:. A one-line data: module that imports the real one works for every scheme
// and needs the same read permission a web Worker of the file would.
const TRAMPOLINE = new URL(
  `data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(WORKER_MODULE)};`)}`,
);

/** A reusable loader Worker and what it has done. */
export class LoaderWorker {
  readonly #worker: Worker;
  #loads = 0;
  #alive = true;
  #pending: ((outcome: ImportOutcome) => void) | undefined;
  readonly #exited = Promise.withResolvers<void>();

  constructor() {
    this.#worker = new Worker(TRAMPOLINE);
    this.#worker.unref();
    // Listeners stay for the Worker's whole life: an error while idle (a timer a config left
    // behind throwing) must retire the Worker, not surface as an unhandled "error" event.
    this.#worker.on("message", (outcome: ImportOutcome) => this.#settle(outcome));
    this.#worker.on("error", (e: Error) => {
      this.#alive = false;
      this.#settle({ ok: false, message: `the config module failed: ${e.message}` });
    });
    this.#worker.on("messageerror", () => {
      this.#alive = false;
      this.#settle({
        ok: false,
        message: "the config module's default export could not be received",
      });
    });
    this.#worker.on("exit", () => {
      this.#alive = false;
      this.#exited.resolve();
      this.#settle({ ok: false, message: "the config loader stopped while loading" });
    });
  }

  /** Loads started in this Worker so far. */
  get loads(): number {
    return this.#loads;
  }

  /** False once the Worker failed, timed out, exited or was terminated: never reuse it then. */
  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Imports `absolutePath` and takes its default export. `fresh` imports the plain file URL
   * (the first and only load of a one-off Worker); otherwise the URL gets a query unique within
   * this Worker, so an entry it imported before is evaluated again. After `timeoutMs` the load
   * fails and the Worker is terminated, so a module that never finishes evaluating (a top-level
   * await that hangs) cannot block later loads. An abort of `signal` ends the load the same
   * way, at once: whoever asked no longer wants the result (a gateway closing).
   */
  load(
    absolutePath: string,
    timeoutMs: number,
    fresh = false,
    signal?: AbortSignal,
  ): Promise<ImportOutcome> {
    if (!this.#alive || this.#pending) throw new Error("this loader Worker cannot load now");
    const { promise, resolve } = Promise.withResolvers<ImportOutcome>();
    this.#pending = resolve;
    const query = fresh ? "" : `?ferry-load=${this.#loads}`;
    this.#loads++;
    const stop = (message: string) => {
      this.#settle({ ok: false, message });
      this.terminate();
    };
    const timer = setTimeout(
      () => stop(`the config module did not load within ${timeoutMs} ms`),
      timeoutMs,
    );
    const onAbort = () => stop("the config load was cancelled");
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#worker.ref();
    this.#worker.postMessage({ path: absolutePath, query } satisfies LoadRequest);
    if (signal?.aborted) onAbort();
    return promise.finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (this.#alive) this.#worker.unref();
    });
  }

  /**
   * Settles once the Worker's thread has exited and its isolate is gone. `terminate()` only
   * asks for that; the memory is given back a little later, on the Worker's own thread.
   */
  get exited(): Promise<void> {
    return this.#exited.promise;
  }

  /** Stops the Worker; its whole module graph goes with it. */
  terminate(): void {
    this.#alive = false;
    void this.#worker.terminate();
  }

  #settle(outcome: ImportOutcome): void {
    const resolve = this.#pending;
    this.#pending = undefined;
    resolve?.(outcome);
  }
}
