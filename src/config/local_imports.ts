/**
 * The local files a config depends on: the entry and every relative import it reaches, so the
 * watcher can watch their folders and a save of an imported policy module reloads too.
 * Ferry's own modules (`mod.ts`, `src/`) are not followed: editing Ferry is not editing config.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { concatBytes } from "../proxy/bytes.ts";
import { sha256Hex } from "./sha256_hex.ts";

const FERRY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FERRY_OWN = [resolve(FERRY_ROOT, "mod.ts"), resolve(FERRY_ROOT, "src") + "/"];

// Static `import`/`export ... from "x"`, bare `import "x"`, and `import("x")` with a literal.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"'\n]+)["']/g;
const MODULE_FILE = /\.(?:[cm]?[jt]sx?)$/;

/** Absolute paths of `entry` and the local modules it imports, transitively. */
export async function localImports(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [resolve(entry)];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!MODULE_FILE.test(file)) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch {
      continue; // a missing import is reported by the loader; it still gets watched
    }
    for (const m of text.matchAll(SPECIFIER)) {
      const target = resolveLocal(file, m[1]);
      if (target && !isFerryOwn(target) && !seen.has(target)) queue.push(target);
    }
  }
  return [...seen];
}

function resolveLocal(from: string, specifier: string): string | undefined {
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return resolve(dirname(from), specifier);
  }
  if (specifier.startsWith("file://")) return fileURLToPath(specifier);
  if (specifier.startsWith("/")) return specifier;
  return undefined; // npm:, jsr:, https: and bare specifiers are not local files
}

function isFerryOwn(path: string): boolean {
  return path === FERRY_OWN[0] || path.startsWith(FERRY_OWN[1]);
}

/** SHA-256 over the contents of `files` (missing files count as empty), to skip no-op saves. */
export async function contentFingerprint(files: readonly string[]): Promise<string> {
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const f of [...files].sort()) {
    parts.push(encoder.encode(`\0${f}\0`));
    try {
      parts.push(await Deno.readFile(f));
    } catch {
      parts.push(encoder.encode("\0missing"));
    }
  }
  const all = concatBytes(parts, parts.reduce((n, p) => n + p.length, 0));
  return await sha256Hex(all as Uint8Array<ArrayBuffer>);
}
