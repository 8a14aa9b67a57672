/**
 * Label cardinality across reloads: series of routes, upstreams and targets a reload removed
 * (renamed, say, by automation that generates a route per tenant) leave `/metrics`, while those
 * of what the new config still has count on with no reset. Requests that were in flight on the
 * old config when it was replaced finish afterwards: they must not bring a removed series back.
 */
import assert from "node:assert/strict";
import { freePort, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { pollFor, scrapeMetrics } from "../helpers/reload.ts";

/** The exposition keys (name and labels) that carry `label="value"`. */
function seriesWith(metrics: Map<string, number>, label: string, value: string): string[] {
  const needle = `${label}="${value}"`;
  return [...metrics.keys()].filter((key) =>
    key.includes(`{${needle}`) || key.includes(`,${needle}`)
  );
}

function configOf(routes: Record<string, unknown>[], upstreams: Record<string, string>) {
  return {
    upstreams: Object.fromEntries(
      Object.entries(upstreams).map(([name, url]) => [name, { targets: [url] }]),
    ),
    routes,
  };
}

Deno.test("a reload drops the series of removed routes, upstreams and targets; kept ones count on", async () => {
  const tenantA = startUpstream(() => new Response("a"));
  const tenantB = startUpstream(() => new Response("b"));
  const shared = startUpstream(() => new Response("shared"));
  const shadow = startUpstream(() => new Response("shadow"));
  const gw = await startTestGateway(configOf(
    [
      {
        name: "tenant-a",
        match: { path: "/t/*" },
        upstream: "tenant-a",
        mirror: { upstream: "shadow" },
      },
      { name: "shared", match: { path: "/shared" }, upstream: "shared" },
    ],
    { "tenant-a": tenantA.url, shared: shared.url, shadow: shadow.url },
  ));
  try {
    for (const path of ["/t/1", "/t/2", "/shared"]) await (await fetch(gw.url + path)).text();
    // Mirrors run beside the client's request: wait until both have been answered.
    const before = await pollFor("both mirrors answered", async () => {
      const m = await scrapeMetrics(gw.adminUrl!);
      const sent = m.get('ferry_mirror_requests_total{route="tenant-a",result="sent"}');
      return sent === 2 && m.get('ferry_mirror_in_flight{route="tenant-a"}') === 0 ? m : undefined;
    });
    assert.equal(
      before.get('ferry_requests_total{route="tenant-a",method="GET",status_class="2xx"}'),
      2,
    );
    assert.ok(seriesWith(before, "upstream", "tenant-a").length > 0);
    assert.ok(seriesWith(before, "route", "tenant-a").some((k) => k.startsWith("ferry_mirror_")));

    // Automation renames the tenant's route and upstream; the shared route is untouched.
    await gw.reload(configOf(
      [
        {
          name: "tenant-b",
          match: { path: "/t/*" },
          upstream: "tenant-b",
          mirror: { upstream: "shadow" },
        },
        { name: "shared", match: { path: "/shared" }, upstream: "shared" },
      ],
      { "tenant-b": tenantB.url, shared: shared.url, shadow: shadow.url },
    ));
    for (const path of ["/t/3", "/shared"]) await (await fetch(gw.url + path)).text();

    const after = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(seriesWith(after, "route", "tenant-a"), [], "removed route's series");
    assert.deepEqual(seriesWith(after, "upstream", "tenant-a"), [], "removed upstream's series");
    assert.deepEqual(seriesWith(after, "target", tenantA.url), [], "removed target's series");
    // Kept: counted on from before the reload, not reset.
    assert.equal(
      after.get('ferry_requests_total{route="shared",method="GET",status_class="2xx"}'),
      2,
    );
    assert.equal(after.get('ferry_request_duration_seconds_count{route="shared"}'), 2);
    assert.equal(
      after.get(`ferry_upstream_duration_seconds_count{upstream="shared",target="${shared.url}"}`),
      2,
    );
    // The new names are counted, mirror series included (created when the config was built).
    assert.equal(
      after.get('ferry_requests_total{route="tenant-b",method="GET",status_class="2xx"}'),
      1,
    );
    assert.equal(
      after.get(
        `ferry_upstream_duration_seconds_count{upstream="tenant-b",target="${tenantB.url}"}`,
      ),
      1,
    );
    assert.ok(seriesWith(after, "route", "tenant-b").some((k) => k.startsWith("ferry_mirror_")));
  } finally {
    await gw.close();
    await Promise.all([tenantA.close(), tenantB.close(), shared.close(), shadow.close()]);
  }
});

Deno.test("a request in flight on a removed route finishes without bringing its series back", async () => {
  let arrived!: () => void;
  const arrival = new Promise<void>((resolve) => arrived = resolve);
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const slow = startUpstream(async () => {
    arrived();
    await released;
    return new Response("late");
  });
  const other = startUpstream(() => new Response("other"));
  const gw = await startTestGateway(configOf(
    [{ name: "old", match: { path: "/old" }, upstream: "slow" }],
    { slow: slow.url },
  ));
  try {
    const pending = fetch(`${gw.url}/old`);
    await arrival; // the only request to `slow` ever, and the first attempt on its target
    await gw.reload(configOf(
      [{ name: "new", match: { path: "/old" }, upstream: "other" }],
      { other: other.url },
    ));
    release();
    const res = await pending;
    assert.equal(await res.text(), "late", "finished on the config it started with");

    const m = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(seriesWith(m, "route", "old"), []);
    assert.deepEqual(seriesWith(m, "upstream", "slow"), []);
  } finally {
    release();
    await gw.close();
    await Promise.all([slow.close(), other.close()]);
  }
});

Deno.test("a route removed then added back is counted again from zero", async () => {
  const api = startUpstream(() => new Response("ok"));
  const withA = configOf([{ name: "a", upstream: "api" }], { api: api.url });
  const gw = await startTestGateway(withA);
  try {
    await (await fetch(`${gw.url}/x`)).text();
    await gw.reload(configOf([{ name: "b", upstream: "api" }], { api: api.url }));
    await gw.reload(withA);
    await (await fetch(`${gw.url}/x`)).text();

    const m = await scrapeMetrics(gw.adminUrl!);
    // A new series: its counters start again, which `rate()` reads as a series that restarted.
    assert.equal(m.get('ferry_requests_total{route="a",method="GET",status_class="2xx"}'), 1);
    assert.equal(m.get('ferry_request_duration_seconds_count{route="a"}'), 1);
    assert.deepEqual(seriesWith(m, "route", "b"), []);
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("a refused reload removes nothing", async () => {
  const api = startUpstream(() => new Response("ok"));
  const good = configOf([{ name: "a", upstream: "api" }], { api: api.url });
  const gw = await startTestGateway(good);
  try {
    await (await fetch(`${gw.url}/x`)).text();
    await assert.rejects(gw.reload(configOf([{ name: "b", upstream: "nope" }], { api: api.url })));
    await (await fetch(`${gw.url}/x`)).text();

    const m = await scrapeMetrics(gw.adminUrl!);
    assert.equal(m.get('ferry_requests_total{route="a",method="GET",status_class="2xx"}'), 2);
    assert.equal(
      m.get(`ferry_upstream_duration_seconds_count{upstream="api",target="${api.url}"}`),
      2,
    );
  } finally {
    await gw.close();
    await api.close();
  }
});

Deno.test("resilience counters of a removed upstream leave with it", async () => {
  const api = startUpstream(() => new Response("ok"));
  const refused = `http://127.0.0.1:${freePort()}`;
  const gw = await startTestGateway(configOf(
    [
      { name: "gone", match: { path: "/gone" }, upstream: "gone" },
      { name: "kept", match: { path: "/kept" }, upstream: "api" },
    ],
    { gone: refused, api: api.url },
  ));
  try {
    const res = await fetch(`${gw.url}/gone`); // refused, retried (GET), refused again
    assert.equal(res.status, 502);
    await res.body?.cancel();
    const before = await scrapeMetrics(gw.adminUrl!);
    const retried = (k: string) => k.startsWith("ferry_upstream_retr");
    assert.ok(seriesWith(before, "upstream", "gone").some(retried), "a retry was counted");

    await gw.reload(configOf([{ name: "kept", match: { path: "/kept" }, upstream: "api" }], {
      api: api.url,
    }));
    const after = await scrapeMetrics(gw.adminUrl!);
    assert.deepEqual(seriesWith(after, "upstream", "gone"), []);
    assert.deepEqual(seriesWith(after, "route", "gone"), []);
  } finally {
    await gw.close();
    await api.close();
  }
});
