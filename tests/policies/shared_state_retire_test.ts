/**
 * Shared policy state across reloads: what a new snapshot no longer asks for is retired (a JWKS
 * cache of an issuer no route names stops refreshing and leaves the metrics), what a failed
 * build alone created is closed, and what survives (metrics, caches still in use) is the same
 * object. Real JWKS caches against real JWKS servers on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { DEFAULT_JWKS_TIMING } from "../../src/identity/jwks_cache.ts";
import { sharedJwksCache } from "../../src/identity/shared_jwks.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import type { PolicyEnv } from "../../src/policies/policy.ts";
import { SharedState } from "../../src/policies/shared_state.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { pollFor, scrapeMetrics } from "../helpers/reload.ts";
import { type JwksServer, keySetWithKid, startJwksServer } from "../identity/jwks_server.ts";

function envOver(shared: SharedState, registry: Registry): PolicyEnv {
  return {
    env: () => undefined,
    shared: (key, create) => shared.get(key, create),
    metrics: registry,
    logger: new MemoryLogger(),
  };
}

/** The JWKS cache a `jwt` policy of `server`'s issuer would use. */
function cacheOf(env: PolicyEnv, server: JwksServer) {
  return sharedJwksCache(
    env,
    { issuer: server.issuer, jwksUri: `${server.url}/keys` },
    DEFAULT_JWKS_TIMING,
  );
}

async function agedIssuers(registry: Registry): Promise<string[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) =>
    m.name === "ferry_jwks_age_seconds"
  );
  return (metric?.values ?? []).map((v) => String(v.labels.issuer)).sort();
}

async function withTwoIssuers(fn: (a: JwksServer, b: JwksServer) => Promise<void>) {
  const a = startJwksServer(await keySetWithKid("a1"));
  const b = startJwksServer(await keySetWithKid("b1"));
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

Deno.test("a reload that drops an issuer retires its JWKS cache once the old snapshot is done", async () => {
  await withTwoIssuers(async (a, b) => {
    const shared = new SharedState();
    const registry = new Registry();
    const env = envOver(shared, registry);
    try {
      shared.beginBuild();
      const cacheA = cacheOf(env, a);
      const cacheB = cacheOf(env, b);
      assert.equal(shared.commitBuild(), undefined, "nothing to retire");
      await cacheA.keys();
      await cacheB.keys();
      assert.deepEqual(await agedIssuers(registry), [a.issuer, b.issuer].sort());

      // The reload: only issuer b is still named.
      shared.beginBuild();
      assert.equal(cacheOf(env, b), cacheB, "a cache still in use is kept across the reload");
      const closeRetired = shared.commitBuild();
      assert.equal(cacheA.closed, false, "requests on the old snapshot may still use it");
      await closeRetired?.();
      assert.equal(cacheA.closed, true, "no background refresh for an issuer nobody names");
      assert.equal(cacheB.closed, false);
      assert.deepEqual(await agedIssuers(registry), [b.issuer]);

      // Named again later: a fresh cache, fetching again.
      shared.beginBuild();
      const again = cacheOf(env, a);
      assert.equal(cacheOf(env, b), cacheB);
      assert.equal(shared.commitBuild(), undefined, "nothing to retire");
      assert.notEqual(again, cacheA);
      await again.keys();
      assert.deepEqual(await agedIssuers(registry), [a.issuer, b.issuer].sort());
    } finally {
      await shared.close();
    }
  });
});

Deno.test("a failed build closes the JWKS cache only it created, and keeps the live ones", async () => {
  await withTwoIssuers(async (a, b) => {
    const shared = new SharedState();
    const env = envOver(shared, new Registry());
    try {
      shared.beginBuild();
      const cacheB = cacheOf(env, b);
      assert.equal(shared.commitBuild(), undefined, "nothing to retire");

      shared.beginBuild();
      const cacheA = cacheOf(env, a); // started: its first fetch is under way
      assert.equal(cacheOf(env, b), cacheB);
      await shared.abandonBuild();
      assert.equal(cacheA.closed, true, "nothing serving uses it: it must not refresh forever");
      assert.equal(cacheB.closed, false, "the live snapshot still uses it");
    } finally {
      await shared.close();
    }
  });
});

Deno.test("values without close() (metrics) survive a reload that does not ask for them", () => {
  const shared = new SharedState();
  const registry = new Registry();
  const counter = () => new Counter({ name: "t_total", help: "t", registers: [registry] });
  shared.beginBuild();
  const first = shared.get("metric:t", counter);
  void shared.commitBuild();
  shared.beginBuild();
  void shared.commitBuild();
  shared.beginBuild();
  // Created again, it would throw: the registry already holds a metric of that name.
  assert.equal(shared.get("metric:t", counter), first);
  void shared.commitBuild();
});

Deno.test("shutdown closes retired values still waiting for the old snapshot", async () => {
  await withTwoIssuers(async (a) => {
    const shared = new SharedState();
    const env = envOver(shared, new Registry());
    shared.beginBuild();
    const cacheA = cacheOf(env, a);
    assert.equal(shared.commitBuild(), undefined, "nothing to retire");
    shared.beginBuild();
    const closeRetired = shared.commitBuild();
    assert.ok(closeRetired);
    await shared.close();
    assert.equal(cacheA.closed, true);
    await closeRetired(); // later, from the grace timer: closes nothing twice, throws nothing
  });
});

Deno.test({
  name: "gateway: removing the last jwt route of an issuer stops its JWKS cache",
  async fn() {
    const jwks = startJwksServer(await keySetWithKid("k1"));
    const upstream = startEchoUpstream();
    const config = (use: unknown[]) => ({
      upstreams: { api: { targets: [upstream.url] } },
      reload: { streamGrace: "0s" },
      routes: [{ name: "r", upstream: "api", use }],
    });
    const jwt = {
      kind: "jwt",
      options: { issuer: jwks.issuer, audiences: ["api"], jwksUri: `${jwks.url}/keys` },
    };
    const gw = await startTestGateway(config([jwt]));
    try {
      await jwks.received(1);
      const age = `ferry_jwks_age_seconds{issuer="${jwks.issuer}"}`;
      assert.ok((await scrapeMetrics(gw.adminUrl!)).has(age));
      await gw.reload(config([]));
      // Retired after the (zero) stream grace period, on the gateway's timer.
      await pollFor("the retired issuer leaves the metrics", async () => {
        return (await scrapeMetrics(gw.adminUrl!)).has(age) ? undefined : true;
      });
      const fetches = jwks.requests.length;
      // A reload that names the issuer again starts a fresh cache, which fetches at once.
      await gw.reload(config([jwt]));
      await jwks.received(fetches + 1);
    } finally {
      await gw.close();
      await upstream.close();
      await jwks.close();
    }
  },
});
