/**
 * The JSON access log: one line per request, to stdout or a file, or off. Lines are queued and
 * written in batches off the request path, so a slow disk never adds latency; when the queue is
 * full, lines are dropped and counted rather than buffered without bound.
 *
 * A batch is written every {@link FLUSH_INTERVAL_MS}, or as soon as {@link FLUSH_LINES} lines
 * are waiting, as nginx's `access_log ... buffer= flush=` and Envoy's file flush interval (1 s)
 * do. Writing after every event-loop turn, as before, made one small write (a stream write and a
 * hop to the file thread) per few requests: measured as ~12% of a core at ~10k req/s.
 */
import { openRotatingFileSink, writeAll } from "./access_log_file.ts";

/** One access-log record. */
export interface AccessEntry {
  time: string;
  requestId: string;
  /** W3C trace id when the request is traced. */
  traceId?: string;
  route: string;
  method: string;
  path: string;
  status: number;
  /** Arrival to response headers. */
  durationMs: number;
  /** The last upstream attempt, dispatch to response headers. */
  upstreamMs?: number;
  upstreamTarget?: string;
  /** Why the last upstream attempt failed (`connect: ...`, `timeout: ...`), when it did. */
  upstreamError?: string;
  /** Request body bytes (declared length). */
  bytesIn?: number;
  /** Response body bytes when known as the response starts (absent for streams). */
  bytesOut?: number;
  clientIp: string;
  userAgent?: string;
  subject?: string;
  /** Traffic-coloring headers the request carried. */
  colors?: Record<string, string>;
}

/** Every field an access-log line can have, for field selection. */
export const ACCESS_LOG_FIELDS = [
  "time",
  "requestId",
  "traceId",
  "route",
  "method",
  "path",
  "status",
  "durationMs",
  "upstreamMs",
  "upstreamTarget",
  "upstreamError",
  "bytesIn",
  "bytesOut",
  "clientIp",
  "userAgent",
  "subject",
  "colors",
] as const satisfies readonly (keyof AccessEntry)[];

/** A field of {@link AccessEntry}. */
export type AccessLogField = typeof ACCESS_LOG_FIELDS[number];

/** Sampling and field selection. */
export interface AccessLogOptions {
  /** Share of requests logged, 0–1; exact (every n-th), not random. Default 1. */
  sample: number;
  /** Fields written; all when absent. */
  fields?: readonly AccessLogField[];
}

/** Where access-log lines go. */
export interface AccessLog {
  readonly enabled: boolean;
  /** Whether this request is logged (sampling); call once per request, before `write`. */
  sampled(): boolean;
  write(entry: AccessEntry): void;
  /** Writes what is queued; resolves when written. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines dropped because the queue was full or their write failed. */
  readonly dropped: number;
}

const MAX_QUEUED = 10_000;
/** Longest a line waits in the queue before it is written. */
export const FLUSH_INTERVAL_MS = 100;
/** Lines that trigger a write at once (about 200 KB of typical lines). */
const FLUSH_LINES = 1024;
const encoder = new TextEncoder();

/** The no-op log. */
export const accessLogOff: AccessLog = {
  enabled: false,
  sampled: () => false,
  write() {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
  dropped: 0,
};

/** Where batches of bytes go: stdout, a file, or a test's buffer. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<unknown>;
  close(): Promise<void>;
}

/** A batched writer over any byte sink. */
export class BatchedAccessLog implements AccessLog {
  readonly enabled = true;
  dropped = 0;
  #queue: string[] = [];
  #writing: Promise<void> | undefined;
  /** The pending timed write, if any. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the pending timer is the immediate one a full batch sets. */
  #timerImmediate = false;
  readonly #onTimer = () => {
    this.#timer = undefined;
    void this.flush();
  };

  /** Sampling accumulator: each request adds `sample`; crossing 1 logs it. */
  #credit = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly options: AccessLogOptions = { sample: 1 },
  ) {}

  sampled(): boolean {
    const sample = this.options.sample;
    if (sample >= 1) return true;
    this.#credit += sample;
    if (this.#credit < 1 - 1e-9) return false;
    this.#credit -= 1;
    return true;
  }

  write(entry: AccessEntry): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.#queue.push(
      JSON.stringify(this.options.fields ? pick(entry, this.options.fields) : entry),
    );
    if (this.#queue.length >= FLUSH_LINES) {
      // A full batch goes now, but after this request's response: in a later task.
      if (!this.#timerImmediate) {
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = setTimeout(this.#onTimer, 0);
        this.#timerImmediate = true;
      }
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, FLUSH_INTERVAL_MS);
    }
  }

  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#timerImmediate = false;
    if (this.#writing) return this.#writing.then(() => this.flush());
    if (this.#queue.length === 0) return Promise.resolve();
    const lines = this.#queue.length;
    const batch = this.#queue.join("\n") + "\n";
    this.#queue = [];
    const writing = this.sink.write(encoder.encode(batch)).then(() => {}, () => {
      // A failing sink (disk full, closed stdout) must not take requests down; count the loss,
      // in lines like a full queue's, so the two add up to lines missing from the log.
      this.dropped += lines;
    }).finally(() => this.#writing = undefined);
    this.#writing = writing;
    return writing;
  }

  async close(): Promise<void> {
    await this.flush();
    try {
      await this.sink.close();
    } catch {
      // already closed
    }
  }
}

function pick(entry: AccessEntry, fields: readonly AccessLogField[]): Partial<AccessEntry> {
  const out: Record<string, unknown> = {};
  for (const field of fields) if (entry[field] !== undefined) out[field] = entry[field];
  return out;
}

const writeAllToStdout = (bytes: Uint8Array) => writeAll(Deno.stdout, bytes);

/** Opens the configured destination. */
export async function openAccessLog(
  to: "off" | "stdout" | { file: string },
  options?: AccessLogOptions,
): Promise<AccessLog> {
  if (to === "off") return accessLogOff;
  if (to === "stdout") {
    // Stdout stays open after the log closes: other output still goes there.
    return new BatchedAccessLog(
      { write: writeAllToStdout, close: () => Promise.resolve() },
      options,
    );
  }
  // Straight to the file, not through `file.writable`: that stream holds writes back until 64 KB
  // are waiting or it closes (a quiet gateway's lines reached the file only at shutdown, and a
  // crash lost them), and once one write fails it refuses every later one (a disk that filled
  // up for a moment silenced the log until restart). Batches never overlap: one write at a time.
  return new BatchedAccessLog(await openRotatingFileSink(to.file), options);
}
