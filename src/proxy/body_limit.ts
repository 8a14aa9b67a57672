/**
 * Bounds a streamed request body. Declared lengths are checked before anything is sent; bodies
 * of unknown length are counted as they stream, and the stream fails once past the limit.
 */

/** Raised inside the body stream when the limit is passed. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds the limit of ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** A body stream that errors with {@link BodyTooLargeError} after `limit` bytes. */
export function limitBody(
  body: ReadableStream<Uint8Array>,
  limit: number,
): { stream: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let seen = 0;
  let over = false;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          over = true;
          controller.error(new BodyTooLargeError(limit));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  return { stream, exceeded: () => over };
}
