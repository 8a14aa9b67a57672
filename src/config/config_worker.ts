/**
 * Runs inside the config loader Worker (see `loader_worker.ts`): for each request, imports one
 * config module and posts back its default export. The Worker is reused for many loads, so the
 * entry is imported under a new query each time (a fresh module instance); its nested imports
 * stay cached, and `loader_worker_pool.ts` retires the Worker when one of them changes.
 */
import { parentPort } from "node:worker_threads";
import { importDefaultExport, type ImportOutcome } from "./import_module.ts";
import { findNonPlainValue, nonPlainFileMessage } from "./plain_data.ts";

/** What the loader asks: the config's absolute path and the query that makes it fresh. */
export interface LoadRequest {
  path: string;
  query: string;
}

const port = parentPort;
if (!port) throw new Error("config_worker.ts runs only as a node:worker_threads Worker");

port.on("message", async (request: LoadRequest) => {
  const outcome = await importDefaultExport(request.path, request.query);
  try {
    port.postMessage(outcome);
  } catch (error) {
    // Functions, symbols and the like cannot leave the Worker. The clone error names no place
    // (and quotes a function's whole source), so find the value and say where it is.
    const found = outcome.ok ? findNonPlainValue(outcome.value) : undefined;
    const answer: ImportOutcome = found ? { ok: false, message: nonPlainFileMessage(found) } : {
      ok: false,
      message: `the config must be plain data (objects, arrays, strings, numbers, booleans): ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
    port.postMessage(answer);
  }
});
