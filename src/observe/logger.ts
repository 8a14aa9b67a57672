/**
 * Ferry's own log (not the access log): one JSON object per line on stderr, so it can be read
 * by people and collected by machines alike. Tests pass their own sink to assert on lines.
 */

/** Log levels, in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

const encoder = new TextEncoder();

/** Writes JSON lines to stderr. */
export const stderrLogger: Logger = {
  log(level, message, fields) {
    const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // stderr closed: nothing sensible left to do with a log line
    }
  },
};

/** Passes on warnings and errors only: the default for in-process gateways in users' tests. */
export function quietLogger(inner: Logger): Logger {
  return {
    log(level, message, fields) {
      if (level === "warn" || level === "error") inner.log(level, message, fields);
    },
  };
}

/** Collects lines in memory (tests). */
export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level, message, fields });
  }
}
