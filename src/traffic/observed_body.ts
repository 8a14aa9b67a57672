/**
 * Passes a body stream through unchanged while telling an observer about every chunk and how
 * the stream ended. Pull-based with no queue of its own (high-water mark 0): a chunk is read
 * from the source only when the consumer asks, so nothing is buffered and backpressure holds.
 *
 * The observer only watches: an exception it throws is swallowed, so that it can neither break
 * the body the consumer reads nor stop the stream from closing. After a `chunk` throws, the
 * observer is told `abort` (what it saw is incomplete) and hears nothing more.
 */

export interface BodyObserver {
  chunk(chunk: Uint8Array): void;
  /** The body was read to its end. */
  end(): void;
  /** The consumer cancelled, or the source failed: the body is incomplete. */
  abort(reason: unknown): void;
}

export function observeBody(
  source: ReadableStream<Uint8Array>,
  observer: BodyObserver,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let settled = false;
  const settle = (report: () => void) => {
    if (settled) return;
    settled = true;
    try {
      report();
    } catch {
      // The observer's own failure: the body still flows (see above).
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        settle(() => observer.abort(error));
        controller.error(error);
        return;
      }
      if (next.done) {
        settle(() => observer.end());
        controller.close();
        return;
      }
      if (!settled) {
        try {
          observer.chunk(next.value);
        } catch (error) {
          settle(() => observer.abort(error));
        }
      }
      controller.enqueue(next.value);
    },
    cancel(reason) {
      settle(() => observer.abort(reason));
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
