/**
 * Bodies stream through the gateway as they come, in both directions: a chunk reaches the other
 * side while its sender is still waiting to send the next one. Each test makes the sender wait
 * on the receiver, so a gateway that collected a body before passing it on deadlocks, and
 * `within` turns that deadlock into a failure instead of a hung suite. (Memory bounds for large
 * bodies are in streaming_memory_test.ts.)
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

Deno.test("the first chunk of a slow download reaches the client before the upstream ends", async () => {
  // The upstream sends chunk 1, then waits until the client has seen it. A gateway that
  // buffered the response would deadlock here; `within` turns that into a failure.
  const clientSawFirst = Promise.withResolvers<void>();
  const encoder = new TextEncoder();
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode("first;"));
          await clientSawFirst.promise;
          controller.enqueue(encoder.encode("second"));
          controller.close();
        },
      }),
    )
  );
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    // The head too: a gateway that buffers may hold it back until the body is complete.
    const res = await within(fetch(`${gw.url}/slow`), 5_000, "response head");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await within(reader.read(), 5_000, "first chunk");
    assert.equal(first.value, "first;");
    clientSawFirst.resolve();
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
    assert.equal(rest, "second");
  } finally {
    clientSawFirst.resolve();
    await gw.close();
    await upstream.close();
  }
});

Deno.test("the first part of an upload reaches the upstream before the client sends the rest", async () => {
  // The client holds part 2 back until the upstream has part 1: a gateway that collected the
  // request body before forwarding would deadlock, which `within` turns into a failure.
  const upstreamSawFirst = Promise.withResolvers<void>();
  const upstream = startUpstream(async (req) => {
    let text = "";
    for await (const chunk of req.body!.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (text.includes("part1;")) upstreamSawFirst.resolve();
    }
    return new Response(text);
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  const encoder = new TextEncoder();
  try {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("part1;"));
      },
      async pull(controller) {
        await within(upstreamSawFirst.promise, 5_000, "upstream waiting for part 1");
        controller.enqueue(encoder.encode("part2"));
        controller.close();
      },
    });
    const res = await fetch(`${gw.url}/upload`, { method: "POST", body });
    assert.equal(await res.text(), "part1;part2");
  } finally {
    upstreamSawFirst.resolve();
    await gw.close();
    await upstream.close();
  }
});
