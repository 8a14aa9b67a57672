/**
 * The JSON access log: one line per request, to stdout or a file, or off. Lines are queued and
 * written in batches off the request path, so a slow disk never adds latency; when the queue is
 * full, lines are dropped and counted rather than buffered without bound.
 */

/** One access-log record. */
export interface AccessEntry {
  time: string;
  requestId: string;
  route: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  upstreamTarget?: string;
  clientIp: string;
  userAgent?: string;
  subject?: string;
}

/** Where access-log lines go. */
export interface AccessLog {
  readonly enabled: boolean;
  write(entry: AccessEntry): void;
  /** Writes what is queued; resolves when written. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines dropped because the queue was full. */
  readonly dropped: number;
}

const MAX_QUEUED = 10_000;
const encoder = new TextEncoder();

/** The no-op log. */
export const accessLogOff: AccessLog = {
  enabled: false,
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
  #scheduled = false;

  constructor(private readonly sink: ByteSink) {}

  write(entry: AccessEntry): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.#queue.push(JSON.stringify(entry));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        void this.flush();
      }, 0);
    }
  }

  flush(): Promise<void> {
    if (this.#writing) return this.#writing.then(() => this.flush());
    if (this.#queue.length === 0) return Promise.resolve();
    const batch = this.#queue.join("\n") + "\n";
    this.#queue = [];
    const writing = this.sink.write(encoder.encode(batch)).then(() => {}, () => {
      // A failing sink (disk full, closed stdout) must not take requests down; count the loss.
      this.dropped++;
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

/** Opens the configured destination. */
export async function openAccessLog(to: "off" | "stdout" | { file: string }): Promise<AccessLog> {
  if (to === "off") return accessLogOff;
  if (to === "stdout") {
    // Stdout stays open after the log closes: other output still goes there.
    return new BatchedAccessLog({
      write: (bytes) => Deno.stdout.write(bytes),
      close: () => Promise.resolve(),
    });
  }
  const file = await Deno.open(to.file, { write: true, create: true, append: true });
  const writer = file.writable.getWriter();
  return new BatchedAccessLog({
    write: (bytes) => writer.write(bytes),
    close: () => writer.close(),
  });
}
