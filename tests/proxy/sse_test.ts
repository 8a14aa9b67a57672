/**
 * Server-sent events are relayed one at a time: each event reaches the client while the
 * upstream is still waiting to send the next one. The upstream emits event 2 only after the
 * test has read event 1 from the client side, so a buffering gateway deadlocks (and `within`
 * turns that into a failure) instead of passing by luck.
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

Deno.test("SSE events arrive one by one, without buffering", async () => {
  const gates = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  const encoder = new TextEncoder();
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("id: 1\nevent: tick\ndata: one\n\n"));
          await gates[0].promise;
          controller.enqueue(encoder.encode("id: 2\nevent: tick\ndata: two\n\n"));
          await gates[1].promise;
          controller.enqueue(encoder.encode("id: 3\ndata: three\n\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
    )
  );
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await within(
      fetch(`${gw.url}/events`, { headers: { accept: "text/event-stream" } }),
      5_000,
      "response head",
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    /** The next complete event (up to its blank line), read from the client side. */
    const nextEvent = async (): Promise<string> => {
      while (!buffered.includes("\n\n")) {
        const { value, done } = await within(reader.read(), 5_000, "waiting for an event");
        if (done) throw new Error(`stream ended inside ${JSON.stringify(buffered)}`);
        buffered += value;
      }
      const end = buffered.indexOf("\n\n") + 2;
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end);
      return event;
    };
    assert.equal(await nextEvent(), "id: 1\nevent: tick\ndata: one\n\n");
    gates[0].resolve();
    assert.equal(await nextEvent(), "id: 2\nevent: tick\ndata: two\n\n");
    gates[1].resolve();
    assert.equal(await nextEvent(), "id: 3\ndata: three\n\n");
    assert.equal((await reader.read()).done, true);
  } finally {
    for (const gate of gates) gate.resolve();
    await gw.close();
    await upstream.close();
  }
});
