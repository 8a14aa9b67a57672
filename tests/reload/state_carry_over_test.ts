/**
 * A reload swaps the compiled config but keeps runtime state that the new config did not
 * invalidate: an upstream whose definition is unchanged is handed over as the same object (its
 * pools, balancer position and target health), and a changed upstream starts afresh. A reload
 * with an identical config swaps nothing.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { ConfigError } from "../../src/config/config_error.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { createGateway, type Gateway } from "../../src/server/gateway.ts";
import { basicAuth } from "../../mod.ts";
import { startUpstream, type TestUpstream } from "../helpers/gateway.ts";
import { pollUntil } from "../helpers/process.ts";

/** Two upstreams on the same server, one route each; `bPath` and `apiConnect` vary per test. */
function config(
  upstreamUrl: string,
  opts: { bPath?: string; apiConnect?: string; grace?: string; bUse?: unknown[] } = {},
) {
  return {
    reload: { streamGrace: opts.grace ?? "30s" },
    upstreams: {
      api: { targets: [upstreamUrl], timeouts: { connect: opts.apiConnect ?? "5s" } },
      other: { targets: [upstreamUrl] },
    },
    routes: [
      { name: "a", match: { path: "/a/*" }, upstream: "api" },
      { name: "b", match: { path: opts.bPath ?? "/b/*" }, upstream: "other", use: opts.bUse },
    ],
  };
}

async function status(gw: Gateway, path: string): Promise<number> {
  const res = await gw.fetch(new Request(`http://gateway.test${path}`));
  await res.body?.cancel();
  return res.status;
}

async function withGateway(
  body: (gw: Gateway, upstream: TestUpstream) => Promise<void>,
  grace?: string,
) {
  const upstream = startUpstream(() => new Response("ok"));
  let gw: Gateway | undefined;
  try {
    gw = await createGateway(config(upstream.url, { grace }), {
      logger: new MemoryLogger(),
      env: () => undefined,
    });
    await body(gw, upstream);
  } finally {
    await gw?.close();
    await upstream.close();
  }
}

Deno.test("reload: an unhealthy target stays unhealthy across a reload of an unrelated route", async () => {
  await withGateway(async (gw, upstream) => {
    const runtime = gw.snapshot.upstreams.get("api")!;
    const target = runtime.targets[0];
    assert.equal(await status(gw, "/a/x"), 200);
    target.healthy = false;
    assert.equal(await status(gw, "/a/x"), 503, "no healthy target answers 503");

    const result = await gw.reload(config(upstream.url, { bPath: "/b2/*" }));
    assert.equal(result.changed, true);
    assert.deepEqual(result.diff.routes.changed, ["b"]);
    const after = gw.snapshot.upstreams.get("api")!;
    assert.equal(after, runtime, "the upstream runtime (pools, balancer) is carried over");
    assert.equal(after.targets[0], target, "the same Target object");
    assert.equal(after.targets[0].healthy, false);
    assert.equal(await status(gw, "/a/x"), 503, "still unhealthy after the reload");
    assert.equal(await status(gw, "/b2/x"), 200, "the reload itself took effect");
  });
});

Deno.test("reload: a target is replaced (healthy again) when its own upstream changes", async () => {
  await withGateway(async (gw, upstream) => {
    const runtime = gw.snapshot.upstreams.get("api")!;
    const other = gw.snapshot.upstreams.get("other")!;
    runtime.targets[0].healthy = false;
    assert.equal(await status(gw, "/a/x"), 503);

    const result = await gw.reload(config(upstream.url, { apiConnect: "3s" }));
    assert.equal(result.changed, true);
    assert.deepEqual(result.diff.upstreams.changed, ["api"]);
    const after = gw.snapshot.upstreams.get("api")!;
    assert.notEqual(after, runtime, "a changed upstream gets a new runtime");
    assert.notEqual(after.targets[0], runtime.targets[0], "and new Target objects");
    assert.equal(after.targets[0].healthy, true);
    assert.equal(await status(gw, "/a/x"), 200);
    assert.equal(gw.snapshot.upstreams.get("other"), other, "the unchanged upstream is kept");
  });
});

Deno.test("reload: an identical config returns changed: false and keeps the version", async () => {
  await withGateway(async (gw, upstream) => {
    const snapshot = gw.snapshot;
    assert.equal(snapshot.version, 1);
    // A fresh object with the same content (and another key order) is still "the same config".
    const same = config(upstream.url);
    const reordered = { routes: same.routes, upstreams: same.upstreams };
    const result = await gw.reload(reordered);
    assert.equal(result.changed, false);
    assert.equal(result.version, 1);
    assert.equal(gw.snapshot, snapshot, "nothing was swapped");
    const metrics = await gw.metrics.text();
    assert.match(metrics, /^ferry_config_reloads_total\{result="success"\} 1$/m);
    assert.match(metrics, /^ferry_config_info\{version="1",/m);
  });
});

Deno.test("reload: an invalid config passed to reload() throws ConfigError and keeps serving the old one", async () => {
  await withGateway(async (gw, upstream) => {
    const bad = { ...config(upstream.url), routes: [{ name: "a", upstream: "nope" }] };
    await assert.rejects(() => gw.reload(bad), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.path), ["routes[0].upstream"]);
      return true;
    });
    assert.equal(gw.snapshot.version, 1);
    assert.equal(await status(gw, "/a/x"), 200);
    const metrics = await gw.metrics.text();
    assert.match(metrics, /^ferry_config_reloads_total\{result="error"\} 1$/m);
    assert.match(metrics, /^ferry_config_info\{version="1",/m);
  });
});

Deno.test("reload: a reload that retires nothing leaves no grace-period timer behind", async () => {
  await withGateway(async (gw, upstream) => {
    // Each pending timer would hold that reload's state for the whole grace period (30 s), so
    // reloads in quick succession would pile up snapshots.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    for (let i = 0; i < 5; i++) {
      const result = await gw.reload(config(upstream.url, { bPath: `/b${i}/*` }));
      assert.equal(result.changed, true);
    }
    assert.equal(timers(), before);
    // A reload that does retire something (the changed upstream) still schedules its close.
    await gw.reload(config(upstream.url, { apiConnect: "3s" }));
    assert.equal(timers(), before + 1);
  });
});

Deno.test("reload: the runtime of a changed upstream is closed once the grace period ends", async () => {
  await withGateway(async (gw, upstream) => {
    const old = gw.snapshot.upstreams.get("api")!;
    await gw.reload(config(upstream.url, { apiConnect: "3s", grace: "20ms" }));
    // Requests still running on the old snapshot may use it until then.
    assert.equal(old.closed, false);
    await pollUntil("the old runtime closed", () => Promise.resolve(old.closed));
    assert.equal(gw.snapshot.upstreams.get("api")!.closed, false);
    assert.equal(await status(gw, "/a/x"), 200);
  }, "20ms");
});

Deno.test("reload: a config whose policy fails to build keeps the serving upstreams open and in use", async () => {
  await withGateway(async (gw, upstream) => {
    const serving = gw.snapshot.upstreams.get("api")!;
    // The upstream change is built first; then the policy refuses (its secret is unset).
    const broken = config(upstream.url, {
      apiConnect: "3s",
      bUse: [basicAuth({ realm: "r", usersEnv: "FERRY_TEST_UNSET_USERS" })],
    });
    await assert.rejects(gw.reload(broken), /FERRY_TEST_UNSET_USERS is not set or is empty/);
    assert.equal(gw.snapshot.upstreams.get("api"), serving);
    assert.equal(serving.closed, false);
    assert.equal(await status(gw, "/a/x"), 200);
    // The same upstream change, now with a valid config, gets a runtime of its own.
    await gw.reload(config(upstream.url, { apiConnect: "3s" }));
    const next = gw.snapshot.upstreams.get("api")!;
    assert.notEqual(next, serving);
    assert.equal(next.closed, false);
    assert.equal(await status(gw, "/a/x"), 200);
  });
});
