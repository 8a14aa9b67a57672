/**
 * Loading a config file: TypeScript/JavaScript modules through `import()`, YAML and JSON through
 * their parsers, then the same validation for all. Every failure (missing file, syntax error, a
 * module that throws, no default export) becomes an issue at path `"(file)"`; nothing throws.
 */
import { extname, resolve } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { configHash } from "./hash.ts";
import { errorText, importDefaultExport, type ImportOutcome } from "./import_module.ts";
import type { ConfigIssue, NormalizedConfig } from "./normalized.ts";
import { findNonPlainValue, nonPlainFileMessage } from "./plain_data.ts";
import { validateConfig } from "./validate.ts";

/** The outcome of loading one file. `source` is the path as given, for messages. */
export type LoadResult =
  | {
    ok: true;
    config: NormalizedConfig;
    warnings: ConfigIssue[];
    source: string;
    /** SHA-256 hex of the normalized config's canonical JSON. */
    hash: string;
  }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[]; source: string };

/** Path of issues about the file itself rather than a place inside the config. */
export const FILE_PATH = "(file)";

const MODULE_EXTENSIONS = new Set([".ts", ".mts", ".js", ".mjs"]);
const YAML_EXTENSIONS = new Set([".yaml", ".yml"]);

/**
 * How a config module is imported: in this isolate (default) or in a Worker (hot reload). An
 * importer that can stop a load early honours `signal` (a gateway closing mid-reload).
 */
export type ModuleImporter = (absolutePath: string, signal?: AbortSignal) => Promise<ImportOutcome>;

/**
 * Reads, parses and validates the config at `path` (relative to the working directory).
 * `signal` is handed to the importer, so a caller that no longer wants the result can stop a
 * module that is slow or hangs while loading.
 */
export async function loadConfigFile(
  path: string,
  // Wrapped: its own second parameter is a URL query, not a signal.
  importer: ModuleImporter = (absolutePath) => importDefaultExport(absolutePath),
  signal?: AbortSignal,
): Promise<LoadResult> {
  const source = path;
  const fail = (message: string): LoadResult => ({
    ok: false,
    errors: [{ path: FILE_PATH, message, severity: "error" }],
    warnings: [],
    source,
  });
  const absolute = resolve(path);
  const extension = extname(absolute).toLowerCase();
  const kind = MODULE_EXTENSIONS.has(extension)
    ? "module"
    : YAML_EXTENSIONS.has(extension)
    ? "yaml"
    : extension === ".json"
    ? "json"
    : undefined;
  if (kind === undefined) {
    return fail(
      `cannot load "${path}": expected a .ts, .mts, .js, .mjs, .yaml, .yml or .json file`,
    );
  }
  let data: unknown;
  try {
    const stat = await Deno.stat(absolute);
    if (!stat.isFile) return fail(`cannot load "${path}": it is not a file`);
    if (kind === "module") {
      const imported = await importer(absolute, signal);
      if (!imported.ok) return fail(imported.message);
      data = imported.value;
    } else data = parseText(kind, await Deno.readTextFile(absolute));
  } catch (e) {
    return fail(describeLoadError(path, e));
  }
  const result = validateConfig(data);
  if (!result.ok) return { ...result, source };
  // Options the schema takes as they are (a custom policy's) may still hold a function: report
  // it as the loader Worker does, where it is, before fingerprinting fails on it with no place.
  const nonPlain = findNonPlainValue(data);
  if (nonPlain) return fail(nonPlainFileMessage(nonPlain));
  try {
    return { ...result, source, hash: await configHash(result.config) };
  } catch (e) {
    return fail(`cannot fingerprint the config: ${errorText(e)}`);
  }
}

/** A parse failure, in one line that says what and where. */
class LoadError extends Error {}

function parseText(kind: "yaml" | "json", text: string): unknown {
  if (kind === "json") {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new LoadError(`JSON syntax error: ${errorText(e)}`);
    }
  }
  try {
    return parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const where = e.linePos?.[0];
      // The library's message ends with a code frame; the first line is the reason.
      const reason = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      throw new LoadError(
        where
          ? `YAML syntax error at line ${where.line}, column ${where.col}: ${reason}`
          : `YAML syntax error: ${reason}`,
      );
    }
    throw new LoadError(`YAML error: ${errorText(e)}`);
  }
}

function describeLoadError(path: string, e: unknown): string {
  if (e instanceof LoadError) return e.message;
  if (e instanceof Deno.errors.NotFound) return `cannot load "${path}": file not found`;
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return `cannot load "${path}": permission denied (${errorText(e)})`;
  }
  return `cannot load "${path}": ${errorText(e)}`;
}

export { importDefaultExport, type ImportOutcome };
