/**
 * A shadow target stays counted in flight until the mirror's body ends, as on the main path: a
 * shadow that also serves real traffic with least-request balancing must see a long streamed
 * mirror as busy, not idle as soon as its response head arrived.
 */
import assert from "node:assert/strict";
import { startUpstream, within } from "../helpers/gateway.ts";
import { startMirrorGateway } from "./mirror_fixture.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

/**
 * A shadow whose every answer sends one chunk, then holds its body until `end()`. `reading`
 * settles once the gateway asks for more than that chunk.
 */
function startHeldBodyShadow() {
  const ended = Promise.withResolvers<void>();
  const reading = Promise.withResolvers<void>();
  const upstream = startUpstream(() => {
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent) {
          reading.resolve();
          await ended.promise;
          return controller.close();
        }
        sent = true;
        controller.enqueue(new TextEncoder().encode("first"));
      },
    });
    return new Response(body);
  });
  return {
    url: upstream.url,
    reading: reading.promise,
    end: () => ended.resolve(),
    close: () => upstream.close(),
  };
}

for (const diff of [false, true]) {
  const mode = diff ? "with diff" : "without diff";
  Deno.test(`mirror ${mode}: the shadow target counts in flight until its body ends`, async () => {
    const primary = startUpstream(() => new Response("primary"));
    const shadow = startHeldBodyShadow();
    const gw = await startMirrorGateway({
      primary: primary.url,
      shadow: shadow.url,
      mirror: diff ? { diff: {} } : {},
    });
    try {
      const target = gw.snapshot.upstreams.get("shadow")!.targets[0];
      const res = await fetch(`${gw.url}/stream`);
      assert.equal(await res.text(), "primary");
      // The mirror has its answer's head and is reading the body, which the shadow holds.
      await pollMirror(gw.adminUrl!, "api", (s) => s.requests.sent === 1);
      await within(shadow.reading, 5000, "the mirror reading on");
      assert.equal(target.inflight, 1, "a shadow body still streaming is not counted busy");

      shadow.end();
      await pollMirror(gw.adminUrl!, "api", finished(1));
      assert.equal(target.inflight, 0, "the count came back once the body ended");
    } finally {
      shadow.end();
      await gw.close();
      await shadow.close();
      await primary.close();
    }
  });
}

Deno.test("mirror: a shadow body cut short by the lifetime releases its in-flight count", async () => {
  const primary = startUpstream(() => new Response("primary"));
  const shadow = startHeldBodyShadow();
  const gw = await startMirrorGateway({
    primary: primary.url,
    shadow: shadow.url,
    // Cut 100 ms after the primary ended, silence notwithstanding.
    shadowUpstream: { timeouts: { total: "100ms", idle: "1h" } },
  });
  try {
    const target = gw.snapshot.upstreams.get("shadow")!.targets[0];
    const res = await fetch(`${gw.url}/stream`);
    assert.equal(await res.text(), "primary");
    await within(shadow.reading, 5000, "the mirror reading on");
    const s = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.match(s.lastError?.message ?? "", /after the primary's response ended/);
    assert.equal(target.inflight, 0);
  } finally {
    shadow.end();
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
