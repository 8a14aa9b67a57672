/**
 * Byte helpers shared by every place that must hold a body in memory (auth denials, IdP
 * documents, mirrored JSON, WebSocket frames): joining chunks, and reading a stream with a cap so
 * that a misbehaving peer can never make the gateway buffer without bound.
 */

/** Joins `chunks` (whose lengths add up to `total`) into one array; one chunk is returned as is. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The body's bytes, or `undefined` when it is longer than `maxBytes` (the rest is cancelled). */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  // A fresh copy even for one chunk: callers own the result (and need an ArrayBuffer-backed one).
  const out = new Uint8Array(total);
  out.set(concatBytes(chunks, total));
  return out;
}
