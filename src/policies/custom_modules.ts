/**
 * Loads the modules of `custom` policies in this isolate (middleware cannot cross a Worker).
 * A module is imported again only when its file, or a local module it imports, changed:
 * re-importing leaks the old module, so unchanged ones are reused from one snapshot to the next.
 */
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { NormalizedConfig } from "../config/normalized.ts";
import type { PolicyDescriptor } from "../config/types.ts";
import { contentFingerprint, localImports } from "../config/local_imports.ts";
import type { CustomPolicyFactory, CustomPolicyOptions } from "./custom.ts";

interface Loaded {
  fingerprint: string;
  factory: CustomPolicyFactory;
}

/** The specifiers of every custom policy module a config uses, with the first config path. */
export function customModulesOf(config: NormalizedConfig): Map<string, string> {
  const found = new Map<string, string>();
  const note = (d: PolicyDescriptor, path: string) => {
    const specifier = (d.options as CustomPolicyOptions).module;
    if (d.kind === "custom" && !found.has(specifier)) {
      found.set(specifier, `${path}.options.module`);
    }
  };
  for (const [name, d] of Object.entries(config.policies)) note(d, `policies.${name}`);
  config.routes.forEach((r) =>
    r.use.forEach((u, i) => {
      if (!u.ref) note(u.descriptor, `routes[${r.index}].use[${i}]`);
    })
  );
  return found;
}

/** Why a custom module could not be used, with the config path that names it. */
export class CustomModuleError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = "CustomModuleError";
  }
}

/** The custom policy modules of one gateway, kept across reloads. */
export class CustomModules {
  readonly #loaded = new Map<string, Loaded>();

  /** Where specifiers are resolved from: the config file's folder, or the working folder. */
  static baseFor(source: string): string {
    return source === "inline" ? Deno.cwd() : dirname(resolve(source));
  }

  /**
   * Loads (or reuses) every module `config` uses. Returns a lookup by specifier and a
   * fingerprint of all module contents, which changes when any of them changed.
   */
  async prepare(
    config: NormalizedConfig,
    base: string,
  ): Promise<{ lookup: (specifier: string) => CustomPolicyFactory; fingerprint: string }> {
    const bySpecifier = new Map<string, CustomPolicyFactory>();
    const prints: string[] = [];
    for (const [specifier, configPath] of customModulesOf(config)) {
      const path = resolve(base, specifier);
      const fingerprint = await contentFingerprint(await localImports(path));
      let loaded = this.#loaded.get(path);
      if (loaded?.fingerprint !== fingerprint) {
        const factory = await importFactory(path, specifier, fingerprint, configPath);
        loaded = { fingerprint, factory };
        this.#loaded.set(path, loaded);
      }
      bySpecifier.set(specifier, loaded.factory);
      prints.push(`${specifier}:${fingerprint}`);
    }
    return { lookup: (s) => bySpecifier.get(s)!, fingerprint: prints.join(",") };
  }

  /** Absolute paths of the modules (and their local imports), for the watcher. */
  static async filesOf(config: NormalizedConfig, base: string): Promise<string[]> {
    const files: string[] = [];
    for (const s of customModulesOf(config).keys()) {
      files.push(...await localImports(resolve(base, s)));
    }
    return files;
  }
}

async function importFactory(
  path: string,
  specifier: string,
  fingerprint: string,
  configPath: string,
): Promise<CustomPolicyFactory> {
  let module: Record<string, unknown>;
  try {
    // The fingerprint in the URL makes a changed module a new module to the loader.
    module = await import(`${pathToFileURL(path).href}?v=${fingerprint.slice(0, 16)}`);
  } catch (e) {
    throw new CustomModuleError(
      configPath,
      `custom policy module "${specifier}" failed to load: ${
        e instanceof Error ? e.message.split("\n")[0] : String(e)
      }`,
    );
  }
  const factory = module.default;
  if (typeof factory !== "function") {
    throw new CustomModuleError(
      configPath,
      `custom policy module "${specifier}" must export a default function ` +
        "(options) => middleware",
    );
  }
  return (options) => {
    const middleware = (factory as CustomPolicyFactory)(options);
    if (typeof middleware !== "function") {
      throw new CustomModuleError(
        configPath,
        `custom policy module "${specifier}": its default export must return a middleware ` +
          "function (c, next) => ...",
      );
    }
    return middleware;
  };
}
