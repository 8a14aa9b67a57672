/**
 * Imports a config module in a loader Worker, not in the main isolate: re-importing there keeps
 * every version and misses edits to nested imports. The Worker is reused across loads and
 * replaced when that could show a stale module (`loader_worker_pool.ts`); an idle one never
 * keeps the process alive. A module that never finishes evaluating (a top-level await that
 * hangs) is cut off after `timeoutMs`, and its Worker is discarded; so is one whose `signal`
 * aborts (a gateway closing does not wait out a hung load).
 */
import type { ImportOutcome } from "./import_module.ts";
import { ConfigLoaderPool } from "./loader_worker_pool.ts";

/** Shared by every gateway in the process: one idle Worker at most, whoever loads. */
const pool = new ConfigLoaderPool();

/** Imports `absolutePath` in a loader Worker and takes its default export. */
export function importInWorker(
  absolutePath: string,
  signal?: AbortSignal,
  timeoutMs = 10_000,
): Promise<ImportOutcome> {
  return pool.load(absolutePath, timeoutMs, signal);
}

/** How many loader Workers this process has started (for the memory bench). */
export function loaderWorkersStarted(): number {
  return pool.workersStarted;
}

/**
 * Settles when every loader Worker retired so far has exited (for the memory bench: a Worker
 * being torn down still holds its isolate's memory).
 */
export function loaderWorkersRetired(): Promise<void> {
  return pool.retired();
}
