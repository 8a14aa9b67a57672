/**
 * A reload ends the streams of changed routes after `reload.streamGrace`. An SSE stream may end
 * cleanly (its client reconnects and lands on the new route), but any other streamed body ended
 * that way is a silently truncated download: a chunked response closed with its terminator
 * reads as whole. Those must be cut (the client's read fails), as an upstream break-off is.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** An upstream streaming `contentType`: one piece, then nothing until it is cancelled. */
function endlessUpstream(contentType: string) {
  const cancelled = Promise.withResolvers<void>();
  const upstream = startUpstream(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("data: first\n\n"));
        },
        cancel() {
          cancelled.resolve();
        },
      }),
      { headers: { "content-type": contentType } },
    )
  );
  return { upstream, cancelled: cancelled.promise };
}

/** Reads `res` to its end: resolves if it ends cleanly, rejects if the connection was cut. */
async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  for (;;) if ((await reader.read()).done) return;
}

async function reloadDuringStream(
  contentType: string,
  check: (rest: Promise<void>) => Promise<void>,
): Promise<void> {
  const { upstream, cancelled } = endlessUpstream(contentType);
  const config = (path: string) => ({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ name: "all", upstream: "api", match: { path } }],
    reload: { streamGrace: "0ms" },
  });
  const gw = await startTestGateway(config("/*"));
  try {
    const res = await fetch(`${gw.url}/download`);
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.ok((await reader.read()).value, "the first piece arrives");
    // The route changes: its open stream is ended once the (zero) grace period is over.
    await gw.reload(config("/download"));
    await within(check(readRest(reader)), 5_000, "the stream ended");
    await within(cancelled, 5_000, "the upstream stream was cancelled");
    await reader.cancel().catch(() => {});
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a reload cuts a streamed download of a changed route: it never reads as whole", async () => {
  await reloadDuringStream("application/x-ndjson", async (rest) => {
    await assert.rejects(rest, "a download cut by a reload was delivered as complete");
  });
});

Deno.test("a reload ends an SSE stream of a changed route cleanly, so its client reconnects", async () => {
  await reloadDuringStream("text/event-stream; charset=utf-8", async (rest) => {
    await rest;
  });
});
