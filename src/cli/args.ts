/** Command-line parsing for `ferry <command> [--config <file>] [args] [-H 'name: value']...`. */

/** A parsed command line. */
export interface CliArgs {
  command: string;
  config: string;
  positional: string[];
  headers: [string, string][];
  /** `start` reloads on file changes unless `--no-watch`. */
  watch: boolean;
}

/** Raised for a command line that cannot be understood; the CLI prints it with the usage. */
export class UsageError extends Error {}

/** Parses `argv` (without the program name). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const [command = "help", ...rest] = argv;
  let config: string | undefined;
  const positional: string[] = [];
  const headers: [string, string][] = [];
  let watch = true;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--config" || arg === "-c") {
      if (i + 1 >= rest.length) throw new UsageError(`${arg} needs a file path`);
      config = rest[++i];
    } else if (arg.startsWith("--config=")) {
      config = arg.slice("--config=".length);
    } else if (arg === "--watch" || arg === "--no-watch") {
      watch = arg === "--watch";
    } else if (arg === "-H" || arg === "--header") {
      const value = rest[++i];
      if (value === undefined) throw new UsageError(`${arg} needs 'name: value'`);
      const colon = value.indexOf(":");
      if (colon <= 0) {
        throw new UsageError(`${arg} needs 'name: value', got ${JSON.stringify(value)}`);
      }
      headers.push([value.slice(0, colon).trim(), value.slice(colon + 1).trim()]);
    } else if (arg === "--help" || arg === "-h") {
      // `ferry check --help` asks for the usage; it is not a mistyped option.
      return { command: "help", config: "", positional: [], headers: [], watch };
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  return { command, config: config ?? configFromEnv(), positional, headers, watch };
}

/**
 * `$FERRY_CONFIG`, else `./routes.config.ts`. Read only when no `--config` is given, so a command
 * line that names its config needs no env access; without it, say how to fix the command line
 * instead of letting Deno's permission error escape as a stack trace.
 */
function configFromEnv(): string {
  try {
    return Deno.env.get("FERRY_CONFIG") ?? "./routes.config.ts";
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied)) {
      throw e;
    }
    throw new UsageError(
      "no --config given, and $FERRY_CONFIG cannot be read: " +
        "pass --config <file>, or run deno with --allow-env=FERRY_CONFIG",
    );
  }
}

/** The help text. */
export const USAGE = `ferry: a typed API gateway

usage:
  ferry start   [--config routes.config.ts] [--no-watch]
                                                serve the config; reload it when it (or a module
                                                it imports) changes, on SIGHUP or POST /reload
  ferry check   [--config routes.config.ts]     validate; print every error and warning
  ferry routes  [--config routes.config.ts]     print the compiled route table
  ferry explain [--config routes.config.ts] <METHOD> <URL> [-H 'name: value']...
                                                which route takes this request, and why

--config defaults to $FERRY_CONFIG, then ./routes.config.ts (.ts, .js, .yaml, .yml or .json).`;
