/**
 * Passes a body stream through unchanged while telling an observer about every chunk and how
 * the stream ended. Pull-based with no queue of its own (high-water mark 0): a chunk is read
 * from the source only when the consumer asks, so nothing is buffered and backpressure holds.
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
    report();
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
      observer.chunk(next.value);
      controller.enqueue(next.value);
    },
    cancel(reason) {
      settle(() => observer.abort(reason));
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
