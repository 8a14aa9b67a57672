/**
 * `ferry_jwks_fetch_total{issuer,result}` across reloads: the series of an issuer no route
 * names any more leave `/metrics` with its retired JWKS cache (a config regenerated per tenant
 * must not grow `/metrics` forever), while an issuer still in use keeps counting on the same
 * series. Real JWKS caches against real JWKS servers on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { DEFAULT_JWKS_TIMING } from "../../src/identity/jwks_cache.ts";
import { sharedJwksCache } from "../../src/identity/shared_jwks.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import type { PolicyEnv } from "../../src/policies/policy.ts";
import { SharedState } from "../../src/policies/shared_state.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { pollFor, scrapeMetrics } from "../helpers/reload.ts";
import { type JwksServer, keySetWithKid, startJwksServer } from "./jwks_server.ts";

function envOver(shared: SharedState, registry: Registry): PolicyEnv {
  return {
    env: () => undefined,
    shared: (key, create) => shared.get(key, create),
    metrics: registry,
    logger: new MemoryLogger(),
  };
}

/** `ferry_jwks_fetch_total` as `issuer result` → count. */
async function fetchCounts(registry: Registry): Promise<Map<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) =>
    m.name === "ferry_jwks_fetch_total"
  );
  return new Map(
    (metric?.values ?? []).map((v) => [`${v.labels.issuer} ${v.labels.result}`, v.value]),
  );
}

async function withTwoServers(fn: (a: JwksServer, b: JwksServer) => Promise<void>) {
  const a = startJwksServer(await keySetWithKid("a1"));
  const b = startJwksServer(await keySetWithKid("b1"));
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

Deno.test("a reload that drops an issuer removes its JWKS fetch series, others keep counting", async () => {
  await withTwoServers(async (a, b) => {
    const shared = new SharedState();
    const registry = new Registry();
    const env = envOver(shared, registry);
    const cacheOf = (server: JwksServer) =>
      sharedJwksCache(
        env,
        { issuer: server.issuer, jwksUri: `${server.url}/keys` },
        DEFAULT_JWKS_TIMING,
      );
    try {
      shared.beginBuild();
      const cacheA = cacheOf(a);
      const cacheB = cacheOf(b);
      void shared.commitBuild();
      await cacheA.keys();
      const seenB = await cacheB.keys();
      assert.deepEqual(
        await fetchCounts(registry),
        new Map([[`${a.issuer} success`, 1], [`${b.issuer} success`, 1]]),
      );

      // The reload: only issuer b is still named.
      shared.beginBuild();
      cacheOf(b);
      await shared.commitBuild()?.();
      assert.deepEqual(await fetchCounts(registry), new Map([[`${b.issuer} success`, 1]]));

      // b's series was not reset: its next fetch adds to it.
      await cacheB.keysAfterUnknownKid(seenB);
      assert.deepEqual(await fetchCounts(registry), new Map([[`${b.issuer} success`, 2]]));
    } finally {
      await shared.close();
    }
  });
});

Deno.test("an issuer whose JWKS moved keeps its fetch series when the old location retires", async () => {
  await withTwoServers(async (a, b) => {
    const shared = new SharedState();
    const registry = new Registry();
    const env = envOver(shared, registry);
    // One issuer, its keys first at a, then at b (the operator changed `jwksUri`).
    const issuer = "https://login.example.test";
    const cacheAt = (server: JwksServer) =>
      sharedJwksCache(env, { issuer, jwksUri: `${server.url}/keys` }, DEFAULT_JWKS_TIMING);
    try {
      shared.beginBuild();
      await cacheAt(a).keys();
      void shared.commitBuild();

      shared.beginBuild();
      await cacheAt(b).keys();
      await shared.commitBuild()?.();
      assert.deepEqual(await fetchCounts(registry), new Map([[`${issuer} success`, 2]]));
    } finally {
      await shared.close();
    }
  });
});

Deno.test({
  name: "gateway: a reload removing the jwt route of an issuer removes its JWKS fetch series",
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
      const fetched = `ferry_jwks_fetch_total{issuer="${jwks.issuer}",result="success"}`;
      await pollFor("the first fetch is counted", async () => {
        return (await scrapeMetrics(gw.adminUrl!)).get(fetched) === 1 ? true : undefined;
      });
      await gw.reload(config([]));
      // Retired after the (zero) stream grace period, on the gateway's timer.
      await pollFor("the retired issuer's fetch series leaves the metrics", async () => {
        const metrics = await scrapeMetrics(gw.adminUrl!);
        const left = [...metrics.keys()].filter((k) => k.includes(jwks.issuer));
        return left.length === 0 ? true : undefined;
      });
    } finally {
      await gw.close();
      await upstream.close();
      await jwks.close();
    }
  },
});
