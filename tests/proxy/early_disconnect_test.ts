/**
 * A client that goes away before the upstream's response head arrives: the stream the upstream
 * then opens must still be cancelled, its target released and the open-streams gauge cleared.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  RawSocket,
  startTestGateway,
  startUpstream,
  within,
} from "../helpers/gateway.ts";

Deno.test("a client gone before the response head leaves no open stream behind", async () => {
  const arrived = Promise.withResolvers<void>();
  const answer = Promise.withResolvers<void>();
  const cancelled = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const upstream = startUpstream(async () => {
    arrived.resolve();
    await answer.promise;
    return new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("data: first\n\n"));
          timer = setInterval(() => c.enqueue(new TextEncoder().encode("data: more\n\n")), 5);
        },
        cancel() {
          clearInterval(timer);
          cancelled.resolve();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const client = new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) }));
    await client.write("GET /feed HTTP/1.1\r\nhost: x\r\n\r\n");
    await arrived.promise;
    client.close();
    answer.resolve();
    await within(cancelled.promise, 5_000, "upstream stream cancelled");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /ferry_open_streams\{kind="stream"\} 0\b/);
  } finally {
    clearInterval(timer);
    answer.resolve();
    await gw.close();
    await upstream.close();
  }
});
