/**
 * prom-client's `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources`
 * gauges read Node's libuv bookkeeping (`process._getActiveHandles()`, `_getActiveRequests()`,
 * `getActiveResourcesInfo()`). Deno 2.9.6 fills those only with what its Node compatibility
 * layer opens (node:net sockets, node:fs callbacks, Node timers); Ferry's listeners, sockets and
 * files are Deno's own (`Deno.serve`, `Deno.connect`), so the gauges stayed 0 with a request in
 * flight over two listeners and two connections: a flat line that reads as a measurement. They
 * must not be exported.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

const NODE_BOOKKEEPING = /^ferry_nodejs_active_(handles|requests|resources)(_total)?(\{|$)/;

Deno.test("no nodejs_active_* gauges: under Deno they stay 0 whatever Ferry holds open", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const api = startUpstream(async () => {
    arrived.resolve();
    await release.promise;
    return new Response("ok");
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ upstream: "api" }],
  });
  try {
    // Two listeners, a client connection, an upstream connection and a request in flight.
    const pending = fetch(`${gw.url}/held`);
    await within(arrived.promise, 5000, "the request never reached the upstream");
    const m = await scrapeMetrics(gw.adminUrl!);
    assert.equal(m.get("ferry_requests_in_flight"), 1, "the scrape saw the request in flight");
    const exported = [...m.keys()].filter((name) => NODE_BOOKKEEPING.test(name));
    assert.deepEqual(exported, [], `exported: ${exported.map((n) => `${n} ${m.get(n)}`)}`);
    release.resolve();
    assert.equal(await (await pending).text(), "ok");

    // The process figures Deno does provide are still there.
    assert.ok(m.get("ferry_process_resident_memory_bytes")! > 0);
    assert.ok(m.get("ferry_nodejs_heap_size_used_bytes")! > 0);
  } finally {
    release.resolve();
    await gw.close();
    await api.close();
  }
});
