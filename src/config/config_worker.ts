/**
 * Runs inside a Worker: imports one config module and posts back its default export. A fresh
 * Worker per load sees every edit, nested imports included, and its whole module graph is
 * freed when it is terminated, so memory stays flat over thousands of reloads.
 */
import { importDefaultExport } from "./import_module.ts";

/** The message the Worker answers with. */
export type WorkerAnswer = { ok: true; value: unknown } | { ok: false; message: string };

declare const self: {
  onmessage: ((e: MessageEvent<{ path: string }>) => void) | null;
  postMessage(message: WorkerAnswer): void;
};

self.onmessage = async (e) => {
  const outcome = await importDefaultExport(e.data.path);
  try {
    self.postMessage(outcome);
  } catch (error) {
    // Functions, class instances with methods and the like cannot leave the Worker.
    self.postMessage({
      ok: false,
      message: `the config must be plain data (objects, arrays, strings, numbers, booleans): ${
        error instanceof Error ? error.message : String(error)
      }`,
    });
  }
};
