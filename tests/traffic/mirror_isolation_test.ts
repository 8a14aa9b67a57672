/**
 * Issue 7 acceptance, mirroring is fire-and-forget: a shadow that holds every request, or one
 * that is down, changes nothing for clients. Every response is the primary's, no client waits
 * for a mirror, and the concurrency bound drops (and counts) what does not fit.
 */
import assert from "node:assert/strict";
import { freePort, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";
import { Load } from "../helpers/load.ts";
import { finished, HeldShadow, metricValue, mirrorSummary, pollMirror } from "./mirror_helpers.ts";

const REQUESTS = 2_000;

/** The primary upstream; `x-upstream` tells its answers from anyone else's. */
function startPrimary() {
  return startUpstream(() => new Response("primary", { headers: { "x-upstream": "primary" } }));
}

Deno.test("mirror: a shadow holding its requests delays no client; maxConcurrent 4 drops the rest", async () => {
  const primary = startPrimary();
  const shadow = new HeldShadow();
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [primary.url] },
      shadow: { targets: [shadow.url] },
    },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", maxConcurrent: 4 } }],
  });
  try {
    const load = new Load(`${gw.url}/work`, 16, { maxMs: 30_000, maxRequests: REQUESTS });
    // Had a client waited for its mirror, the load would stall here on the held ones.
    await within(load.reached(REQUESTS), 30_000, "the load, while the shadow holds its mirrors");
    await load.stop();
    await within(shadow.arrived(4), 5_000, "four mirrors at the shadow");

    // Every client got the primary's answer while the shadow still held its first requests.
    const sent = load.records.length; // the workers' last requests may pass the bound a little
    assert.ok(sent >= REQUESTS, `${sent} requests finished`);
    assert.deepEqual(
      load.records.filter((r) => r.status !== 200 || r.upstream !== "primary"),
      [],
    );
    assert.equal(primary.received.length, sent);
    assert.equal(shadow.current, 4, "the shadow holds the four mirrors the bound allows");
    assert.equal(shadow.max, 4, "never more than maxConcurrent mirrors at the shadow at once");
    assert.equal(shadow.seen.length, 4);

    const held = await mirrorSummary(gw.adminUrl!, "api");
    assert.equal(held.inFlight, 4);
    assert.equal(held.requests.dropped, sent - 4);
    assert.equal(held.requests.sent, 0, "no mirror has an answer yet");
    const base = `{route="api"`;
    assert.equal(
      await metricValue(gw.adminUrl!, `ferry_mirror_dropped_total${base}}`),
      sent - 4,
    );
    assert.equal(
      await metricValue(gw.adminUrl!, `ferry_mirror_requests_total${base},result="dropped"}`),
      sent - 4,
    );
    assert.equal(await metricValue(gw.adminUrl!, `ferry_mirror_in_flight${base}}`), 4);
    console.log(
      `held shadow: ${sent} requests done while the shadow held 4; ` +
        `${held.requests.dropped} mirrors dropped, at most ${shadow.max} at the shadow at once`,
    );

    shadow.release();
    const done = await pollMirror(gw.adminUrl!, "api", finished(sent));
    assert.deepEqual(done.requests, { sent: 4, dropped: sent - 4, skipped: 0, error: 0 });
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror: a shadow that is down changes nothing for clients; failures are counted", async () => {
  const primary = startPrimary();
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [primary.url] },
      shadow: { targets: [`http://127.0.0.1:${freePort()}`] },
    },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", diff: {} } }],
  });
  try {
    const total = 500;
    const load = new Load(`${gw.url}/work`, 16, { maxMs: 30_000, maxRequests: total });
    await load.reached(total);
    await load.stop();
    const sent = load.records.length;
    assert.ok(sent >= total, `${sent} requests finished`);
    assert.deepEqual(load.records.filter((r) => r.status !== 200 || r.upstream !== "primary"), []);

    const s = await pollMirror(gw.adminUrl!, "api", finished(sent));
    assert.equal(s.requests.sent, 0);
    assert.ok(s.requests.error > 0, JSON.stringify(s));
    assert.equal(s.requests.error + s.requests.dropped, sent);
    // A failed shadow leaves nothing to compare: each one is a diff error, never a mismatch.
    assert.deepEqual(s.diff, { match: 0, mismatch: 0, error: s.requests.error });
    assert.match(s.lastError!.message, /connect|circuit open/);
  } finally {
    await gw.close();
    await primary.close();
  }
});
