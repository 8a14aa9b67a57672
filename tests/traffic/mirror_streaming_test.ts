/**
 * Diffing reads the primary's body as it streams to the client: the client gets each chunk as
 * the primary sends it (nothing is held back to hash it), the hash over the chunks matches the
 * shadow's whole body, and a client that leaves mid-body makes the comparison an error, never a
 * false mismatch.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

const encoder = new TextEncoder();

/** A primary whose body's second half waits until the test says so. */
function gatedPrimary() {
  const gates: (() => void)[] = [];
  const server = startUpstream(() => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    gates.push(open);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("first,"));
        await gate;
        try {
          controller.enqueue(encoder.encode("second"));
          controller.close();
        } catch {
          // The gateway cancelled the body (its client left).
        }
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  });
  return { ...server, open: (i: number) => gates[i]() };
}

Deno.test("mirror diff: the primary body streams chunk by chunk, and its hash matches the shadow's", async () => {
  const primary = gatedPrimary();
  const shadow = startUpstream(() =>
    new Response("first,second", { headers: { "content-type": "text/plain" } })
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", diff: {} } }],
  });
  try {
    const res = await fetch(`${gw.url}/stream`);
    const reader = res.body!.getReader();
    // The first chunk arrives while the primary still holds the second one back.
    const first = await within(reader.read(), 5_000, "the first chunk before the rest exists");
    assert.equal(new TextDecoder().decode(first.value), "first,");
    primary.open(0);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, "second");
    const s = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.deepEqual(s.diff, { match: 1, mismatch: 0, error: 0 });
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror diff: a client leaving mid-body leaves nothing to compare (an error, not a mismatch)", async () => {
  const primary = gatedPrimary();
  const shadow = startUpstream(() =>
    new Response("first,second", { headers: { "content-type": "text/plain" } })
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", diff: {} } }],
  });
  try {
    const res = await fetch(`${gw.url}/stream`);
    const reader = res.body!.getReader();
    await within(reader.read(), 5_000, "the first chunk");
    await reader.cancel();
    const s = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.deepEqual(s.diff, { match: 0, mismatch: 0, error: 1 });
    assert.equal(s.requests.sent, 1, "the shadow itself answered");
  } finally {
    primary.open(0);
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
