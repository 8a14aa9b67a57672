/**
 * A client that leaves while the upstream is still thinking: the upstream's answer arrives after
 * the client's connection is gone, with a body that streams. Nobody will ever read that body, so
 * it must be given up, or its target counts as busy for good (least-request balancing shuns it)
 * and the upstream connection stays open.
 */
import assert from "node:assert/strict";
import { startRawUpstream, startTestGateway, within } from "../helpers/gateway.ts";

Deno.test("a streamed answer that arrives after its client left frees its target", async () => {
  const requestArrived = Promise.withResolvers<void>();
  const clientLeft = Promise.withResolvers<void>();
  const upstreamSawClose = Promise.withResolvers<void>();
  const upstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    requestArrived.resolve();
    await clientLeft.promise;
    await socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
    await socket.waitForClose();
    upstreamSawClose.resolve();
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url], balancer: { type: "least_request" } } },
    routes: [{ upstream: "api" }],
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(gw.url).port) });
    await conn.write(new TextEncoder().encode("GET /slow HTTP/1.1\r\nhost: x\r\n\r\n"));
    await requestArrived.promise;
    conn.close();
    clientLeft.resolve();
    await within(upstreamSawClose.promise, 5000, "upstream connection closed by the gateway");
    const upstreams = await (await fetch(`${gw.adminUrl}/upstreams`)).json();
    assert.equal(upstreams[0].targets[0].inflight, 0);
  } finally {
    clientLeft.resolve();
    await gw.close();
    await upstream.close();
  }
});
