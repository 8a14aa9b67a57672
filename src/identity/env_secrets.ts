/**
 * Secrets read from environment variables named in the config (`keysEnv`, `usersEnv`), so a
 * gateway can run with `--allow-env=<those names>` and keep secrets out of config files.
 *
 * They are read when the config is built. A missing variable or a malformed entry throws an
 * {@link EnvSecretError}: the config does not load and the message says which variable and
 * which entry is wrong, never what the entry holds (it may be a secret).
 */
import { ConfigError } from "../config/config_error.ts";
import type { PolicyEnv } from "../policies/policy.ts";

/**
 * A secret-holding environment variable is missing or malformed. It is a {@link ConfigError}
 * so that a reload treats it like any invalid config: rejected, logged and counted, with the
 * previous config still serving. The issue has no path: the policy does not know where in
 * the config it is used, so the message names the policy kind and option instead.
 */
export class EnvSecretError extends ConfigError {
  constructor(message: string) {
    super([{ path: "", message, severity: "error" }], message);
    this.name = "EnvSecretError";
  }
}

/** One `name:secret` entry. */
export interface EnvEntry {
  name: string;
  secret: string;
  /** 1-based position in the variable, for messages. */
  index: number;
}

/** Where an env secret is named: the policy kind and the option, for messages. */
export interface EnvSecretSource {
  policy: string;
  option: string;
  variable: string;
}

/** Describes `source` in messages: `apiKey.keysEnv: environment variable API_KEYS`. */
export function describeSource(source: EnvSecretSource): string {
  return `${source.policy}.${source.option}: environment variable ${source.variable}`;
}

/** Reads the variable; throws when it is unset or blank. */
export function readEnvSecret(env: PolicyEnv, source: EnvSecretSource): string {
  let text: string | undefined;
  try {
    text = env.env(source.variable);
  } catch (e) {
    // Deno throws NotCapable when run without --allow-env for this name.
    const why = e instanceof Error ? e.message : String(e);
    throw new EnvSecretError(`${describeSource(source)} cannot be read (${why})`);
  }
  if (text === undefined || text.trim() === "") {
    throw new EnvSecretError(`${describeSource(source)} is not set or is empty`);
  }
  return text;
}

/**
 * Parses `name:secret` entries separated by newlines or commas; blank entries are skipped and
 * whitespace around each entry is trimmed. The name ends at the first `:`, so a secret may
 * contain colons but neither commas nor line breaks.
 */
export function parseEnvEntries(text: string, source: EnvSecretSource): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let index = 0;
  for (const raw of text.split(/[\n,]/)) {
    const entry = raw.trim();
    if (entry === "") continue;
    index++;
    const colon = entry.indexOf(":");
    if (colon <= 0 || colon === entry.length - 1) {
      throw new EnvSecretError(
        `${describeSource(source)}, entry ${index}: expected "name:secret"`,
      );
    }
    entries.push({ name: entry.slice(0, colon), secret: entry.slice(colon + 1), index });
  }
  if (entries.length === 0) {
    throw new EnvSecretError(`${describeSource(source)} holds no "name:secret" entries`);
  }
  return entries;
}
