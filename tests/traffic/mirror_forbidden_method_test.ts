/**
 * `Deno.serve` accepts TRACE (and CONNECT, TRACK) with a body, but `new Request` refuses those
 * methods. Mirroring a body means rebuilding the primary's Request, so such a request once
 * answered 500 and kept its mirror slot forever: `maxConcurrent` of them ended mirroring on the
 * route for good. It must be forwarded as it came, counted as skipped, and leave the slot free.
 */
import assert from "node:assert/strict";
import { portOf, rawRequest, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { finished, pollMirror } from "./mirror_helpers.ts";

Deno.test("mirror: a TRACE with a body is forwarded unmirrored and keeps no mirror slot", async () => {
  const primary = startUpstream(() => new Response("primary"));
  const shadow = startUpstream(() => new Response("shadow"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", maxConcurrent: 1 } }],
  });
  try {
    const answer = await rawRequest(
      portOf(gw),
      "TRACE /t HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert.match(answer, /^HTTP\/1\.1 200 /, answer);
    assert.ok(answer.endsWith("primary"), answer);
    assert.equal(primary.received.length, 1);
    assert.equal(primary.received[0].method, "TRACE");

    // The only slot is free: the next request with a body is mirrored, not dropped.
    const res = await fetch(`${gw.url}/p`, { method: "POST", body: "data" });
    assert.equal(await res.text(), "primary");
    const s = await pollMirror(gw.adminUrl!, "api", finished(2));
    assert.deepEqual(s.requests, { sent: 1, dropped: 0, skipped: 1, error: 0 });
    assert.deepEqual(shadow.received.map((r) => r.method), ["POST"]);
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
