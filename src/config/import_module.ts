/**
 * Importing a config module and taking its default export, with failures turned into one clear
 * line. Kept free of heavy imports (no YAML, no zod): the hot-reload Worker loads only this.
 */
import { fileURLToPath, pathToFileURL } from "node:url";

/** The default export of a config module, or why there is none. */
export type ImportOutcome = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Imports a config module and takes its default export. Kept apart, and returning plain data
 * rather than throwing, so hot reload can run it inside a Worker and post the outcome back
 * (re-importing in the main isolate leaks and misses edits to nested imports).
 */
export async function importDefaultExport(
  absolutePath: string,
  query = "",
): Promise<ImportOutcome> {
  let module: Record<string, unknown>;
  try {
    // A `query` (`?ferry-load=3`) makes a new module instance in an isolate that imported the
    // file before; messages still name the plain path (`filePath` drops the query).
    module = await import(pathToFileURL(absolutePath).href + query);
  } catch (e) {
    return { ok: false, message: describeImportError(e) };
  }
  if (!("default" in module)) {
    return {
      ok: false,
      message: "the config module has no default export: add " +
        "`export default defineConfig({ ... })`",
    };
  }
  return defaultExportProblem(module.default) ?? { ok: true, value: module.default };
}

/**
 * A default export that is a config only once called or awaited. Refused with what to write:
 * validated as it is, a Promise read as an empty object ("routes: missing"), and a function's
 * clone error from the Worker printed its whole source.
 */
function defaultExportProblem(value: unknown): ImportOutcome | undefined {
  if (value instanceof Promise) {
    return {
      ok: false,
      message: "the config module's default export is a Promise: await it in the module, as " +
        "in `export default await loadConfig()`",
    };
  }
  if (typeof value === "function") {
    return {
      ok: false,
      message: "the config module's default export is a function: export the config object " +
        "itself, as in `export default defineConfig({ ... })`",
    };
  }
  return undefined;
}

/**
 * One line for an import failure. Deno's messages carry colour codes, a code frame and file
 * URLs; keep the reason and the location, written as a path.
 */
function describeImportError(e: unknown): string {
  const lines = stripColours(e instanceof Error ? e.message : String(e))
    .split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const reason = withPaths(lines[0] ?? "unknown error");
  if ((e as { code?: unknown })?.code === "ERR_MODULE_NOT_FOUND") {
    // Deno reports both a syntax error and a missing import as "module not found" errors.
    const at = lines.slice(1).map((l) => /^at (file:\/\/\S+)$/.exec(l)?.[1]).find((l) => l);
    const where = at ? ` (at ${filePath(at)})` : "";
    return reason.startsWith("SyntaxError: ")
      ? `syntax error in the config module: ${reason.slice("SyntaxError: ".length)}${where}`
      : `the config module imports something that cannot be found: ${reason}${where}`;
  }
  const named = e instanceof Error && e.name !== "Error" && !reason.startsWith(e.name)
    ? `${e.name}: ${reason}`
    : reason;
  // Where it was thrown: the first frame in a file, unless the message already says so.
  const frame = e instanceof Error
    ? /(file:\/\/[^\s)]+:\d+:\d+)/.exec(e.stack ?? "")?.[1]
    : undefined;
  const where = frame && !named.includes(filePath(frame)) ? ` (at ${filePath(frame)})` : "";
  return `the config module failed while loading: ${named}${where}`;
}

/** `file:///a/b.ts:3:5` → `/a/b.ts:3:5`. */
function filePath(location: string): string {
  const match = /^(file:\/\/.+?)(:\d+:\d+)?$/.exec(location);
  if (!match) return location;
  try {
    return fileURLToPath(match[1]) + (match[2] ?? "");
  } catch {
    return location;
  }
}

/** Rewrites file URLs in a message as paths. */
function withPaths(message: string): string {
  return message.replace(/file:\/\/[^\s"')]+/g, (url) => filePath(url));
}

/** An error's message without colour codes. */
export function errorText(e: unknown): string {
  return stripColours(e instanceof Error ? e.message : String(e));
}

function stripColours(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
