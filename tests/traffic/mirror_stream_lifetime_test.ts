/**
 * A mirror is awaited by no one, so only its own end freed its slot. With a streamed answer
 * (server-sent events here) the shadow's copy went on after the client had left the primary,
 * holding a slot and a shadow connection for as long as the shadow streamed: `maxConcurrent`
 * such requests and the route mirrored nothing more. Once the primary's response is over, the
 * shadow has its own answer timeout (`timeouts.total`) more, then the copy is cut.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

/** An event stream that sends one event, then stays open until `cancel` or `ended`. */
function eventStream(cancelled: () => void, ended: Promise<void>): Response {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await ended;
        return controller.close();
      }
      sent = true;
      controller.enqueue(new TextEncoder().encode("data: hello\n\n"));
    },
    cancel: cancelled,
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

for (const diff of [false, true]) {
  const mode = diff ? "with diff" : "without diff";
  Deno.test(`mirror ${mode}: a client leaving a streamed answer ends its shadow copy`, async () => {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => end = resolve);
    let shadowCut!: () => void;
    const shadowCutP = new Promise<void>((resolve) => shadowCut = resolve);
    const primary = startUpstream(() => eventStream(() => {}, ended));
    const shadow = startUpstream(() => eventStream(shadowCut, ended));
    const gw = await startTestGateway({
      upstreams: {
        api: { targets: [primary.url] },
        // Silence never ends the shadow's stream here (a heartbeat would do the same); its
        // answer timeout is what it is given after the primary.
        shadow: { targets: [shadow.url], timeouts: { total: "200ms", idle: "1h" } },
      },
      routes: [{
        name: "api",
        upstream: "api",
        mirror: { upstream: "shadow", maxConcurrent: 1, ...(diff ? { diff: {} } : {}) },
      }],
    });
    try {
      const res = await fetch(`${gw.url}/events`);
      const reader = res.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "data: hello\n\n");
      await reader.cancel(); // the client leaves

      await within(shadowCutP, 10_000, "the shadow seeing its copy end");
      const s = await pollMirror(gw.adminUrl!, "api", finished(1));
      assert.equal(s.inFlight, 0);
      assert.deepEqual(s.requests, { sent: 1, dropped: 0, skipped: 0, error: 0 });
      if (diff) assert.deepEqual(s.diff, { match: 0, mismatch: 0, error: 1 });
      assert.match(s.lastError?.message ?? "", /after the primary's response ended/);
    } finally {
      end();
      await gw.close();
      await shadow.close();
      await primary.close();
    }
  });
}
