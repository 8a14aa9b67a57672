/**
 * `ferry_config_reloads_total{result}` and `ferry_config_info` across reloads of a running
 * gateway through its `reload()` API: every refused config counts as an error, whatever stage
 * refused it (validation, or a policy that refuses its options only when built), and the config
 * served stays the one reported.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { configInfo, scrapeMetrics } from "../helpers/reload.ts";

Deno.test("reload(): a config refused at validation or at policy build counts as an error", async () => {
  const api = startUpstream(() => new Response("ok"));
  const good = {
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "r", upstream: "api" }],
  };
  const gw = await startTestGateway(good, { env: {} });
  try {
    const served = await configInfo(gw.adminUrl!);
    assert.equal(served.length, 1);

    // Refused by validation: an unknown upstream.
    await assert.rejects(gw.reload({ ...good, routes: [{ name: "r", upstream: "nope" }] }));
    // Valid, but refused when built: the keys' environment variable is not set.
    await assert.rejects(gw.reload({
      ...good,
      routes: [{
        name: "r",
        upstream: "api",
        use: [{ kind: "apiKey", options: { keysEnv: "FERRY_HUNT_NO_SUCH_KEYS" } }],
      }],
    }));

    const m = await scrapeMetrics(gw.adminUrl!);
    assert.equal(m.get('ferry_config_reloads_total{result="success"}'), 1);
    assert.equal(m.get('ferry_config_reloads_total{result="error"}'), 2);
    assert.deepEqual(await configInfo(gw.adminUrl!), served, "still serving the first config");
    const res = await fetch(`${gw.url}/x`);
    assert.equal(await res.text(), "ok");
  } finally {
    await gw.close();
    await api.close();
  }
});
