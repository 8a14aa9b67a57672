/**
 * Imports a config module in a throwaway Worker (see `config_worker.ts` for why). A module that
 * never finishes evaluating (a top-level await that hangs) is cut off after `timeoutMs`.
 */
import type { ImportOutcome } from "./import_module.ts";

/** Imports `absolutePath` in a new Worker and terminates it afterwards. */
export function importInWorker(absolutePath: string, timeoutMs = 10_000): Promise<ImportOutcome> {
  const worker = new Worker(new URL("./config_worker.ts", import.meta.url), { type: "module" });
  const { promise, resolve } = Promise.withResolvers<ImportOutcome>();
  const timer = setTimeout(
    () => resolve({ ok: false, message: `the config module did not load within ${timeoutMs} ms` }),
    timeoutMs,
  );
  worker.onmessage = (e: MessageEvent<ImportOutcome>) => resolve(e.data);
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    resolve({ ok: false, message: `the config module failed: ${e.message}` });
  };
  worker.onmessageerror = () =>
    resolve({ ok: false, message: "the config module's default export could not be received" });
  worker.postMessage({ path: absolutePath });
  return promise.finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}
