/**
 * Comparing with `ignoreJsonFields` parses and strips JSON bodies of up to 1 MiB. A small body
 * can nest arrays thousands deep (`[[[…]]]`, 40 KB here); stripping it by recursion overflowed
 * the stack while the client read the primary's last bytes. That broke the client's stream, and
 * the comparison never settled, so the route's mirror slot was held forever. Such bodies must
 * pass to the client intact and compare like any other.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

const DEPTH = 20_000;
const DEEP = "[".repeat(DEPTH) + "]".repeat(DEPTH);

/** The deep body, streamed in a few chunks (no Content-Length), as JSON. */
function deepJson(): Response {
  const bytes = new TextEncoder().encode(DEEP);
  const step = 8192;
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + step));
      at += step;
    },
  });
  return new Response(body, { headers: { "content-type": "application/json" } });
}

Deno.test("mirror diff: a deeply nested JSON body reaches the client intact and is compared", async () => {
  const primary = startUpstream(deepJson);
  const shadow = startUpstream(deepJson);
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{
      name: "api",
      upstream: "api",
      mirror: { upstream: "shadow", maxConcurrent: 1, diff: { ignoreJsonFields: ["at"] } },
    }],
  });
  try {
    const res = await fetch(`${gw.url}/deep`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), DEEP);

    const s = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.equal(s.inFlight, 0, "the slot is free again");
    assert.deepEqual(s.requests, { sent: 1, dropped: 0, skipped: 0, error: 0 });
    assert.deepEqual(s.diff, { match: 1, mismatch: 0, error: 0 });
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
