/**
 * `close()` on an in-process gateway promises to cut what outlives the drain timeout. Embedders
 * (and the CLI) rely on that: once `close()` resolves, a never-ending stream through the
 * gateway must have been ended, not left running with the gateway "closed".
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream } from "../helpers/gateway.ts";

/** Generous bound on "the client sees the stream end": far beyond any scheduling delay. */
const HANG_BOUND_MS = 5_000;

Deno.test("close() ends a never-ending upstream stream once the drain timeout passes", async () => {
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("data: hello\n\n"));
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  const gw = await startTestGateway(catchAll(upstream.url, { limits: { drainTimeout: "200ms" } }));
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let closed = false;
  try {
    const res = await fetch(`${gw.url}/events`);
    assert.equal(res.status, 200);
    reader = res.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "data: hello\n\n");

    await gw.close();
    closed = true;

    // The stream must already be over (done or errored); a pending read means it was left open.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      reader.read().then(() => true, () => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), HANG_BOUND_MS)),
    ]);
    clearTimeout(timer);
    assert.equal(ended, true, "gateway.close() resolved but the client's stream is still open");
  } finally {
    // Cancelling from the client side frees the gateway's connection even if close() did not.
    await reader?.cancel().catch(() => {});
    if (!closed) await gw.close();
    await upstream.close();
  }
});
