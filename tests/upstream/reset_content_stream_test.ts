/**
 * An upstream that answers `205 Reset Content` with a body still streaming: the client gets a
 * bodiless 204 (see client_response.ts), and the upstream body that nobody will read must be
 * cancelled. Otherwise the target counts as busy for good (least-request balancing shuns it) and
 * the upstream connection stays open, one more with every such answer.
 */
import assert from "node:assert/strict";
import { startRawUpstream, startTestGateway, within } from "../helpers/gateway.ts";

Deno.test("a 205 answer with a streaming body frees its target and its upstream connection", async () => {
  const upstreamSawClose = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    // A chunked body whose end never comes: the gateway holds it as a stream.
    await socket.write("HTTP/1.1 205 Reset Content\r\ntransfer-encoding: chunked\r\n\r\n");
    await socket.write("5\r\nhello\r\n");
    await socket.waitForClose();
    upstreamSawClose.resolve();
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], balancer: { type: "least_request" } } },
    routes: [{ upstream: "api" }],
  });
  try {
    const res = await fetch(`${gw.url}/form`);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
    // The gateway gives the body up: the upstream sees its connection closed...
    await within(upstreamSawClose.promise, 5000, "upstream connection closed by the gateway");
    // ...and the target is no longer counted busy.
    const upstreams = await (await fetch(`${gw.adminUrl}/upstreams`)).json();
    assert.equal(upstreams[0].targets[0].inflight, 0);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
