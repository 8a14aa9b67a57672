/**
 * The color header belongs to the gateway on every route that configures one, including a route
 * whose canary rules were all deleted (a rollback that kept `color`): a client-sent value must
 * never reach the upstream, or clients could dye their own traffic in the upstream's view and in
 * Ferry's spans and access log.
 */
import assert from "node:assert/strict";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a route with a color header and no canary rules removes the client's color", async () => {
  const up = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { v1: { targets: [up.url] } },
    routes: [{ name: "checkout", upstream: "v1", color: { header: "x-color" } }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/checkout`, { headers: { "x-color": "canary" } });
    assert.equal(res.status, 200);
    const echoed = await res.json();
    assert.equal(echoed.headers["x-color"], undefined);
  } finally {
    await gw.close();
    await up.close();
  }
});
