/**
 * An SSE client reconnecting sends `Last-Event-ID` so the upstream can resume where the stream
 * broke off; the gateway passes it through, and the stream it answers with is not cached or
 * transformed on the way (content type and cache directive as the upstream set them).
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

Deno.test("an SSE reconnect carries Last-Event-ID to the upstream, which resumes after it", async () => {
  const upstream = startUpstream((req) => {
    const after = Number(req.headers.get("last-event-id") ?? "0");
    return new Response(`id: ${after + 1}\ndata: resumed\n\n`, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await within(
      fetch(`${gw.url}/events`, {
        headers: { accept: "text/event-stream", "last-event-id": "41" },
      }),
      5_000,
      "response",
    );
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(await res.text(), "id: 42\ndata: resumed\n\n");
    assert.equal(upstream.received[0].headers.get("last-event-id"), "41");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
