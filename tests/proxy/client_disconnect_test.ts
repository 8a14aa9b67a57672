/**
 * A client that goes away in the middle of a streamed response: the upstream's side of the
 * stream is cancelled (its connection is not kept reading for nobody) and the gateway stops
 * counting the stream as open.
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

Deno.test("a client that disconnects mid-body cancels the upstream stream and frees the entry", async () => {
  const cancelled = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("first\n"));
          // Keeps producing until cancelled, like a feed nobody ends.
          timer = setInterval(() => c.enqueue(new TextEncoder().encode("more\n")), 5);
        },
        cancel() {
          clearInterval(timer);
          cancelled.resolve();
        },
      }),
    )
  );
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const abort = new AbortController();
    const res = await fetch(`${gw.url}/feed`, { signal: abort.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^first/);
    abort.abort();
    await reader.cancel().catch(() => {});
    await within(cancelled.promise, 5_000, "upstream stream cancelled");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const open = /ferry_open_streams\{kind="stream"\} (\d+)/.exec(metrics)?.[1];
    assert.equal(open, "0");
  } finally {
    clearInterval(timer);
    await gw.close();
    await upstream.close();
  }
});
