/**
 * A bounded closed-loop load generator for integration tests: `concurrency` workers send
 * requests back to back and record each outcome, until stopped or until the time or count bound.
 * Tests wait for "n more responses" through `reached(n)`, an event, not a sleep.
 */

/** One finished request. */
export interface LoadRecord {
  /** performance.now() when sent and when the body was read. */
  start: number;
  end: number;
  status: number;
  /** The `x-upstream` response header (which target answered), or "" for gateway answers. */
  upstream: string;
}

export class Load {
  readonly records: LoadRecord[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];
  readonly #workers: Promise<void>[] = [];
  #stopped = false;

  constructor(
    private readonly url: string,
    concurrency: number,
    private readonly bounds: { maxMs: number; maxRequests: number },
  ) {
    const deadline = performance.now() + bounds.maxMs;
    for (let i = 0; i < concurrency; i++) this.#workers.push(this.#worker(deadline));
  }

  /** Resolves once `count` responses in total have been recorded. */
  reached(count: number): Promise<void> {
    if (this.records.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Stops sending and waits for requests in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#workers);
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  async #worker(deadline: number): Promise<void> {
    while (
      !this.#stopped && performance.now() < deadline &&
      this.records.length < this.bounds.maxRequests
    ) {
      const start = performance.now();
      let status = 0;
      let upstream = "";
      try {
        const res = await fetch(this.url);
        await res.arrayBuffer();
        status = res.status;
        upstream = res.headers.get("x-upstream") ?? "";
      } catch {
        status = 0; // the gateway itself failed the connection
      }
      this.records.push({ start, end: performance.now(), status, upstream });
      this.#settle();
    }
    // Bounds reached: release anyone still waiting so the test fails on its asserts, not hangs.
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #settle(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.records.length >= this.#waiters[i].count) {
        this.#waiters[i].resolve();
        this.#waiters.splice(i, 1);
      }
    }
  }
}

/** The `p`-th percentile (0–100) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
