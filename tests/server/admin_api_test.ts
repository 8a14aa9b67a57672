/**
 * The admin listener of a real gateway (both listeners on ephemeral ports): health, readiness
 * while draining, exact metric values after known traffic, the served config and routes, and
 * JSON 404s for anything else.
 */
import assert from "node:assert/strict";
import { configHash } from "../../src/config/hash.ts";
import {
  startEchoUpstream,
  startTestGateway,
  startUpstream,
  type TestUpstream,
} from "../helpers/gateway.ts";

/** Two routes, so `/routes` has an order to keep: `a` forwards, `old` redirects. */
function twoRoutes(upstream: TestUpstream) {
  return {
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      { name: "a", match: { path: "/a" }, upstream: "api" },
      { name: "old", match: { path: "/old/*", method: "GET" }, redirect: { to: "/a" } },
    ],
  };
}

async function get(url: string): Promise<Response> {
  return await fetch(url, { redirect: "manual" });
}

async function status(url: string): Promise<number> {
  const res = await get(url);
  await res.body?.cancel();
  return res.status;
}

Deno.test("/healthz answers 200 JSON", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(twoRoutes(upstream));
  try {
    const res = await get(`${gw.adminUrl}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("/readyz is 200 while serving and 503 while draining", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const upstream = startUpstream(async () => {
    arrived.resolve();
    await release.promise;
    return new Response("done");
  });
  const gw = await startTestGateway(twoRoutes(upstream));
  let closing: Promise<void> | undefined;
  try {
    const ready = await get(`${gw.adminUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", version: 1 });

    const inFlight = fetch(`${gw.url}/a`);
    await arrived.promise;
    closing = gw.close();

    const draining = await get(`${gw.adminUrl}/readyz`);
    assert.equal(draining.status, 503);
    assert.deepEqual(await draining.json(), { status: "draining" });

    release.resolve();
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "done");
    await closing;
  } finally {
    release.resolve();
    await (closing ?? gw.close());
    await upstream.close();
  }
});

Deno.test("/metrics has exact counts after known traffic", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(twoRoutes(upstream));
  try {
    for (let i = 0; i < 3; i++) assert.equal(await status(`${gw.url}/a`), 200);
    for (let i = 0; i < 2; i++) assert.equal(await status(`${gw.url}/nowhere`), 404);

    const res = await get(`${gw.adminUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const lines = (await res.text()).split("\n");
    for (
      const expected of [
        'ferry_requests_total{route="a",method="GET",status_class="2xx"} 3',
        'ferry_requests_total{route="no_route",method="GET",status_class="4xx"} 2',
        'ferry_request_duration_seconds_count{route="a"} 3',
        'ferry_request_duration_seconds_count{route="no_route"} 2',
        "ferry_requests_in_flight 0",
        'ferry_config_reloads_total{result="success"} 1',
      ]
    ) {
      assert.ok(lines.includes(expected), `missing line: ${expected}`);
    }
    // Only the traffic sent: no other route, method or status class has been counted.
    const requestLines = lines.filter((l) => l.startsWith("ferry_requests_total{"));
    assert.equal(requestLines.length, 2, requestLines.join("\n"));
    assert.ok(lines.includes(`ferry_config_info{version="1",hash="${gw.snapshot.hash}"} 1`));
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("/config shows version, hash, source, load time and the normalized config", async () => {
  const upstream = startEchoUpstream();
  const before = Date.now();
  const gw = await startTestGateway(twoRoutes(upstream));
  try {
    const res = await get(`${gw.adminUrl}/config`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.version, 1);
    assert.match(body.hash, /^[0-9a-f]{64}$/);
    assert.equal(body.source, "inline");
    const loadedAt = Date.parse(body.loadedAt);
    assert.ok(loadedAt >= before - 1000 && loadedAt <= Date.now(), body.loadedAt);
    assert.equal(new Date(loadedAt).toISOString(), body.loadedAt);
    assert.equal(body.lastLoad.result, "success");
    // The config is the normalized one: defaults filled in, targets as objects, routes named.
    assert.deepEqual(body.config.upstreams.api.targets, [{ url: upstream.url, weight: 1 }]);
    assert.deepEqual(body.config.routes.map((r: { name: string }) => r.name), ["a", "old"]);
    assert.equal(body.config.routes[1].redirect.status, 308);
    assert.equal(body.config.limits.drainTimeoutMs, 10_000);
    // The hash is the hash of exactly the config shown.
    assert.equal(body.hash, await configHash(body.config));
    assert.equal(body.hash, gw.snapshot.hash);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("/routes lists the compiled routes in declared order", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(twoRoutes(upstream));
  try {
    const res = await get(`${gw.adminUrl}/routes`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), [
      {
        index: 0,
        name: "a",
        host: "*",
        path: "/a",
        methods: "*",
        conditions: [],
        action: 'forward to upstream "api"',
      },
      {
        index: 1,
        name: "old",
        host: "*",
        path: "/old/*",
        methods: "GET",
        conditions: [],
        action: "redirect 308 to /a",
      },
    ]);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("an unknown admin path is a JSON 404", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(twoRoutes(upstream));
  try {
    const res = await get(`${gw.adminUrl}/nope`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /json/);
    const body = await res.json();
    assert.equal(body.status, 404);
    assert.match(body.detail, /\/nope/);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
