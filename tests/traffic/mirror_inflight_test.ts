/**
 * A shadow target stays counted in flight until the mirror's body ends, as on the main path: a
 * shadow that also serves real traffic with least-request balancing must see a long streamed
 * mirror as busy, not idle as soon as its response head arrived.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

/** A body that sends one chunk, then holds until `ended` settles. */
function heldStream(ended: Promise<void>, pulledMore: () => void): Response {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        pulledMore();
        await ended;
        return controller.close();
      }
      sent = true;
      controller.enqueue(new TextEncoder().encode("first"));
    },
  });
  return new Response(body);
}

for (const diff of [false, true]) {
  const mode = diff ? "with diff" : "without diff";
  Deno.test(`mirror ${mode}: the shadow target counts in flight until its body ends`, async () => {
    const ended = Promise.withResolvers<void>();
    const reading = Promise.withResolvers<void>();
    const primary = startUpstream(() => new Response("primary"));
    const shadow = startUpstream(() => heldStream(ended.promise, () => reading.resolve()));
    const gw = await startTestGateway({
      upstreams: {
        api: { targets: [primary.url] },
        shadow: { targets: [shadow.url] },
      },
      routes: [{
        name: "api",
        upstream: "api",
        mirror: { upstream: "shadow", ...(diff ? { diff: {} } : {}) },
      }],
    });
    try {
      const target = gw.snapshot.upstreams.get("shadow")!.targets[0];
      const res = await fetch(`${gw.url}/stream`);
      assert.equal(await res.text(), "primary");
      // The mirror has its answer's head and is reading the body, which the shadow holds.
      await pollMirror(gw.adminUrl!, "api", (s) => s.requests.sent === 1);
      await within(reading.promise, 5000, "the mirror reading on");
      assert.equal(target.inflight, 1, "a shadow body still streaming is not counted busy");

      ended.resolve();
      await pollMirror(gw.adminUrl!, "api", finished(1));
      assert.equal(target.inflight, 0, "the count came back once the body ended");
    } finally {
      ended.resolve();
      await gw.close();
      await shadow.close();
      await primary.close();
    }
  });
}

Deno.test("mirror: a shadow body cut short by the lifetime releases its in-flight count", async () => {
  const ended = Promise.withResolvers<void>();
  const reading = Promise.withResolvers<void>();
  const primary = startUpstream(() => new Response("primary"));
  const shadow = startUpstream(() => heldStream(ended.promise, () => reading.resolve()));
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [primary.url] },
      // Cut 100 ms after the primary ended, silence notwithstanding.
      shadow: { targets: [shadow.url], timeouts: { total: "100ms", idle: "1h" } },
    },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow" } }],
  });
  try {
    const target = gw.snapshot.upstreams.get("shadow")!.targets[0];
    const res = await fetch(`${gw.url}/stream`);
    assert.equal(await res.text(), "primary");
    await within(reading.promise, 5000, "the mirror reading on");
    const s = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.match(s.lastError?.message ?? "", /after the primary's response ended/);
    assert.equal(target.inflight, 0);
  } finally {
    ended.resolve();
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
