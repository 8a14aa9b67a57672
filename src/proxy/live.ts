/**
 * Long-lived exchanges of one gateway (WebSocket bridges and streamed response bodies), by
 * route. A reload closes those of changed or removed routes after a grace period and leaves
 * the others alone; shutdown closes whatever outlives the drain.
 */

/** One open exchange. */
export interface LiveEntry {
  readonly routeName: string;
  /** For metrics: bridged WebSockets and streamed bodies are counted apart. */
  readonly kind?: "websocket" | "stream";
  /** Ends it: a WebSocket with `code`, a stream by ending the body cleanly. */
  close(code: number, reason: string): void;
}

/** The gateway's open exchanges. */
export class LiveConnections {
  readonly #entries = new Set<LiveEntry>();

  add(entry: LiveEntry): void {
    this.#entries.add(entry);
  }

  delete(entry: LiveEntry): void {
    this.#entries.delete(entry);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many of `kind` are open (metrics read this at scrape time). */
  count(kind: "websocket" | "stream"): number {
    let n = 0;
    for (const e of this.#entries) if ((e.kind ?? "stream") === kind) n++;
    return n;
  }

  /** How many are open on `routeName`. */
  countOn(routeName: string): number {
    let n = 0;
    for (const e of this.#entries) if (e.routeName === routeName) n++;
    return n;
  }

  /** The entries open on the given routes right now (a reload notes them at swap time). */
  openOn(routes: ReadonlySet<string>): LiveEntry[] {
    return [...this.#entries].filter((e) => routes.has(e.routeName));
  }

  /**
   * Closes those of `entries` still open; returns how many. Entries opened later (on the new
   * config, after the swap) are not in the list and stay open.
   */
  close(entries: readonly LiveEntry[], code: number, reason: string): number {
    let n = 0;
    for (const e of entries) {
      if (this.#entries.delete(e)) {
        e.close(code, reason);
        n++;
      }
    }
    return n;
  }

  /** Closes everything (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const e of [...this.#entries]) {
      this.#entries.delete(e);
      e.close(code, reason);
    }
  }

  /**
   * Wraps a streamed response body so it can be ended from outside, which cancels the upstream
   * side. An event stream (`endsCleanly`) is then closed cleanly: SSE clients reconnect, and
   * land on the new route. Any other body is failed, which cuts the client's connection: ended
   * cleanly, a chunked download would read as whole when it is truncated. `onEnd` runs once
   * when the body ends, however it ends. When reading `body` fails (the upstream broke off),
   * the client's body fails too, with what `onError` returns for the error (by default the
   * error itself).
   */
  trackStream(
    routeName: string,
    body: ReadableStream<Uint8Array>,
    bytes?: { value: number },
    onEnd?: () => void,
    onError: (error: unknown) => unknown = (error) => error,
    endsCleanly = true,
  ): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      this.#entries.delete(entry);
      onEnd?.();
    };
    const entry: LiveEntry = {
      routeName,
      kind: "stream",
      close: (_code, reason) => {
        if (finished) return;
        done();
        reader.cancel("route closed by the gateway").catch(() => {});
        try {
          // A plain line, not an Error: Deno.serve prints what a body fails with to stderr.
          if (endsCleanly) controller.close();
          else controller.error(`ferry: route "${routeName}" stream ended: ${reason}`);
        } catch {
          // already closed or errored
        }
      },
    };
    this.add(entry);
    return new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      async pull(c) {
        try {
          const { done: end, value } = await reader.read();
          if (finished) return;
          if (end) {
            done();
            c.close();
          } else {
            if (bytes) bytes.value += value.byteLength;
            c.enqueue(value);
          }
        } catch (e) {
          if (finished) return;
          done();
          c.error(onError(e));
        }
      },
      cancel(reason) {
        done();
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}
