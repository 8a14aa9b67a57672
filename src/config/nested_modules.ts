/**
 * The nested local modules of a config (every local file it imports, transitively, found by
 * `localImports`), each with a hash of its content. A reused loader Worker keeps nested modules
 * cached, so it compares these hashes with the ones it first saw to know when it went stale.
 */
import { basename, resolve } from "node:path";
import { localImports } from "./local_imports.ts";
import { sha256Hex } from "./sha256_hex.ts";

/** What a loader needs to know about a config's nested modules before loading it. */
export interface NestedModules {
  /** SHA-256 hex of each nested local module's bytes (`"missing"` if unreadable), by path. */
  hashes: Map<string, string>;
  /**
   * True when a nested module imports the config itself. Such a cycle reaches the entry's
   * plain URL, which a reused Worker would keep cached however often the entry changes.
   */
  importsEntry: boolean;
}

/** Scans `entry`'s local imports and hashes each of them (the entry itself excluded). */
export async function nestedModules(entry: string): Promise<NestedModules> {
  const self = resolve(entry);
  const hashes = new Map<string, string>();
  const mentionsEntry: string[] = [];
  for (const file of await localImports(self)) {
    if (file === self) continue;
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      hashes.set(file, "missing"); // a missing import fails the load; creating it changes this
      continue;
    }
    hashes.set(file, await sha256Hex(bytes));
    // Cheap filter first; `localImports` then says whether the mention is an import.
    if (new TextDecoder().decode(bytes).includes(basename(self))) mentionsEntry.push(file);
  }
  let importsEntry = false;
  for (const file of mentionsEntry) {
    if ((await localImports(file)).includes(self)) importsEntry = true;
  }
  return { hashes, importsEntry };
}
