/**
 * The CLI: start · check · routes · explain. Every command loads the config through the same
 * loader and validation as the gateway, so `check` says exactly what `start` would refuse.
 */
import { formatIssues } from "../config/format_issues.ts";
import { loadConfigFile } from "../config/load.ts";
import { describeRoutes, formatRouteTable } from "../routing/describe.ts";
import { explain, formatExplanation } from "../routing/explain.ts";
import { matchInput } from "../routing/request_view.ts";
import { RouteTable } from "../routing/route_table.ts";
import { ConfigError } from "../config/config_error.ts";
import { serveFile } from "../server/gateway.ts";
import { parseArgs, USAGE, UsageError } from "./args.ts";
import { wireHeaders } from "../routing/header_text.ts";

/** Where CLI output goes (tests capture it). */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

const consoleIO: CliIO = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** Runs the CLI; resolves to the exit code. `start` resolves when the gateway has stopped. */
export async function main(argv: readonly string[], io: CliIO = consoleIO): Promise<number> {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.command === "help" || args.command === "--help" || args.command === "-h") {
    io.out(USAGE);
    return 0;
  }
  if (!["start", "check", "routes", "explain"].includes(args.command)) {
    io.err(`unknown command "${args.command}"\n\n${USAGE}`);
    return 2;
  }
  const misuse = argumentProblem(args.command, args.positional, args.headers);
  if (misuse) {
    io.err(`${misuse}\n\n${USAGE}`);
    return 2;
  }

  // `start` loads in a Worker, as every reload does: the main isolate never imports the config.
  if (args.command === "start") return await start(args.config, args.watch, io);

  const loaded = await loadConfigFile(args.config);
  if (!loaded.ok) {
    io.err(formatIssues([...loaded.errors, ...loaded.warnings], args.config));
    return 1;
  }
  if (loaded.warnings.length) io.err(formatIssues(loaded.warnings, args.config));
  const config = loaded.config;

  switch (args.command) {
    case "check":
      io.out(
        `${args.config}: ok — ${config.routes.length} routes, ${
          Object.keys(config.upstreams).length
        } upstreams, ${loaded.warnings.length} warnings`,
      );
      return 0;
    case "routes":
      io.out(formatRouteTable(describeRoutes(new RouteTable(config.routes))));
      return 0;
    default: {
      const [method, target] = args.positional;
      // A path goes to the Host given with -H, as curl would send it, else to the listen address.
      const host = hostHeader(args.headers) ??
        `${urlHost(config.listen.hostname)}:${config.listen.port}`;
      const url = ABSOLUTE.test(target) ? target : `http://${host}${target}`;
      const input = matchInput(method.toUpperCase(), url, wireHeaders(args.headers));
      io.out(formatExplanation(explain(new RouteTable(config.routes), input)));
      return 0;
    }
  }
}

/**
 * What is wrong with a command's arguments, checked before the config loads: a stray argument
 * or a malformed `explain` request must be a usage error (exit 2), not a stack trace, and never
 * silently explain a different request than the one typed.
 */
function argumentProblem(
  command: string,
  positional: readonly string[],
  headers: readonly [string, string][],
): string | undefined {
  if (command !== "explain") {
    // `ferry check my.config.ts` would otherwise check ./routes.config.ts and say "ok".
    return positional.length
      ? `${command} takes no arguments, got ${JSON.stringify(positional.join(" "))} ` +
        `(a config file is given with --config <file>)`
      : undefined;
  }
  if (positional.length !== 2) return "explain needs <METHOD> <URL>";
  const [method, target] = positional;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) {
    return `explain: ${JSON.stringify(method)} is not an HTTP method`;
  }
  const absolute = ABSOLUTE.test(target);
  if (absolute ? !URL.canParse(target) : !target.startsWith("/")) {
    return `explain: ${
      JSON.stringify(target)
    } is neither a path starting with / nor an absolute URL`;
  }
  for (const [name, value] of headers) {
    try {
      wireHeaders([[name, value]]);
    } catch {
      return `-H: ${JSON.stringify(`${name}: ${value}`)} is not a valid header`;
    }
  }
  const host = hostHeader(headers);
  if (host !== undefined && !absolute && !isHost(host)) {
    return `-H: ${JSON.stringify(`Host: ${host}`)} is not a host[:port]`;
  }
  return undefined;
}

/** `scheme://` starts an absolute URL; anything else typed as the target is a path. */
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The `-H 'Host: ...'` value, if any (two of them join into one that is no host). For a path
 * target it is what the gateway routes on; for an absolute URL the URL's authority is, as for
 * an absolute-form request target.
 */
function hostHeader(headers: readonly [string, string][]): string | undefined {
  return new Headers(headers).get("host") ?? undefined;
}

/** A listen hostname as a URL writes it: an IPv6 address (`::1`) goes in brackets. */
function urlHost(hostname: string): string {
  return hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
}

/** A Host value that makes `http://<host>/` and nothing more: no path, query or userinfo. */
function isHost(host: string): boolean {
  if (host === "" || /[/?#@\\\s]/.test(host)) return false;
  return URL.canParse(`http://${host}/`);
}

async function start(path: string, watch: boolean, io: CliIO): Promise<number> {
  // The signal handlers go in before anything starts: a SIGTERM during start-up, or just after
  // "ferry serving" is logged, must stop the gateway cleanly (exit 0), not kill the process
  // with Deno's default action before a handler is in place.
  const stopRequested = Promise.withResolvers<void>();
  const stop = () => stopRequested.resolve();
  let gateway: Awaited<ReturnType<typeof serveFile>> | undefined;
  const reload = () => void gateway?.reloadFile?.();
  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  Deno.addSignalListener("SIGHUP", reload);
  try {
    try {
      gateway = await serveFile(path, { watch });
    } catch (e) {
      // An invalid config prints its issues; anything else (the port is taken, the access log
      // cannot be opened) is one line, not a stack trace from an unhandled rejection.
      io.err(
        e instanceof ConfigError
          ? e.message
          : `cannot start ${path}: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`,
      );
      return 1;
    }
    await stopRequested.promise;
    await gateway.close();
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    Deno.removeSignalListener("SIGHUP", reload);
  }
}
