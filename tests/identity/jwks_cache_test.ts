/**
 * The JWKS cache against a real local HTTP server publishing keys the test controls. Expiry and
 * cooldowns are stepped over with an injected clock (no waiting); the background refresh runs
 * on real timers and is awaited through the fetch hook.
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import {
  JwksCache,
  type JwksCacheTiming,
  type JwksFetchResult,
  JwksUnavailableError,
  retryDelayMs,
} from "../../src/identity/jwks_cache.ts";
import { freshnessMs } from "../../src/identity/jwks_fetch.ts";
import { discoveredJwksUri, fixedJwksUri } from "../../src/identity/jwks_locator.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { type JwksServer, keySetWithKid, startJwksServer } from "./jwks_server.ts";

const MINUTE = 60_000;

interface Harness {
  server: JwksServer;
  cache: JwksCache;
  results: JwksFetchResult[];
  /** The injected clock, in ms. */
  clock: { now: number };
  logger: MemoryLogger;
}

async function withCache(
  timing: Partial<JwksCacheTiming>,
  fn: (h: Harness) => Promise<void>,
  options: { realClock?: boolean; discovery?: boolean } = {},
) {
  const server = startJwksServer(await keySetWithKid("a"));
  const results: JwksFetchResult[] = [];
  const clock = { now: 0 };
  const logger = new MemoryLogger();
  const cache = new JwksCache(
    server.issuer,
    options.discovery ? discoveredJwksUri(server.issuer) : fixedJwksUri(`${server.url}/keys`),
    {
      refreshIntervalMs: 60 * MINUTE,
      unknownKidCooldownMs: 30_000,
      maxStaleMs: 60 * MINUTE,
      fetchTimeoutMs: 5_000,
      ...timing,
    },
    {
      onFetch: (result) => results.push(result),
      logger,
      ...(options.realClock ? {} : { now: () => clock.now }),
    },
  );
  try {
    await fn({ server, cache, results, clock, logger });
  } finally {
    await cache.close();
    await server.close();
  }
}

Deno.test("jwks cache: concurrent callers share one fetch (single-flight)", async () => {
  await withCache({}, async ({ server, cache, results }) => {
    server.hold();
    const callers = Array.from({ length: 20 }, () => cache.keys());
    await server.received(1);
    assert.equal(server.requests.length, 1);
    server.open();
    const sets = await Promise.all(callers);
    assert.ok(sets.every((s) => s === sets[0]), "all callers got the same key set");
    assert.deepEqual(sets[0].kids, ["a"]);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(results, ["success"]);
    // Later callers are served from the cache.
    assert.equal(await cache.keys(), sets[0]);
    assert.equal(server.requests.length, 1);
  });
});

Deno.test("jwks cache: unknown kids refetch at most once per cooldown", async () => {
  await withCache({ unknownKidCooldownMs: 30_000 }, async ({ server, cache, clock }) => {
    const a = await cache.keys();
    server.keys = await keySetWithKid("b");
    const b = await cache.keysAfterUnknownKid(a);
    assert.deepEqual(b?.kids, ["b"], "the rotated keys are fetched");
    assert.equal(server.requests.length, 2);

    server.keys = await keySetWithKid("c");
    for (let i = 0; i < 100; i++) {
      assert.equal(await cache.keysAfterUnknownKid(b!), undefined);
    }
    assert.equal(server.requests.length, 2, "no refetch within the cooldown");

    clock.now += 30_000;
    const c = await cache.keysAfterUnknownKid(b!);
    assert.deepEqual(c?.kids, ["c"]);
    assert.equal(server.requests.length, 3, "one refetch once the cooldown passed");
  });
});

Deno.test("jwks cache: a refetch of the same keys is not 'newer keys'", async () => {
  await withCache({}, async ({ server, cache }) => {
    const a = await cache.keys();
    assert.equal(await cache.keysAfterUnknownKid(a), undefined);
    assert.equal(server.requests.length, 2, "it did refetch");
    assert.equal(await cache.keys(), a, "and kept the same key set object");
  });
});

Deno.test("jwks cache: stale keys are served up to maxStale, then refused", async () => {
  const timing = { refreshIntervalMs: MINUTE, maxStaleMs: MINUTE, unknownKidCooldownMs: 10_000 };
  await withCache(timing, async ({ server, cache, clock, results }) => {
    const a = await cache.keys();
    server.status = 503;

    clock.now = 90_000; // past the refresh time, within maxStale
    assert.equal(await cache.keys(), a);
    assert.equal(cache.usableKeys(), a, "and are at hand without waiting");
    assert.equal(server.requests.length, 1, "usable keys never wait for the provider");

    clock.now = 2 * MINUTE + 1; // past refresh + maxStale
    assert.equal(cache.usableKeys(), undefined, "past maxStale: nothing to use without a fetch");
    await assert.rejects(() => cache.keys(), (e: Error) => {
      assert.ok(e instanceof JwksUnavailableError);
      assert.match(
        e.message,
        /keys are 120s old, past the 120s they may serve \(refresh interval plus maxStale\)/,
      );
      return true;
    });
    assert.equal(server.requests.length, 2, "it tried the provider once");
    assert.deepEqual(results, ["success", "error"]);

    await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.equal(server.requests.length, 2, "and not again within the cooldown");

    server.status = 200;
    clock.now += 10_000;
    const back = await cache.keys();
    assert.equal(back, a, "recovered (same keys, same set)");
    assert.equal(server.requests.length, 3);
  });
});

Deno.test("jwks cache: with no keys ever fetched, requests fail fast without a storm", async () => {
  await withCache({ unknownKidCooldownMs: 10_000 }, async ({ server, cache, clock }) => {
    server.status = 500;
    assert.equal(cache.usableKeys(), undefined);
    await assert.rejects(() => cache.keys(), /signing keys could not be fetched/);
    assert.equal(server.requests.length, 1, "the start-up fetch");
    // The next request may trigger one fetch; then none until the cooldown has passed.
    await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.equal(server.requests.length, 2, "one request-triggered fetch");
    for (let i = 0; i < 50; i++) await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.equal(server.requests.length, 2, "none within the cooldown");
    clock.now += 10_000;
    server.status = 200;
    assert.deepEqual((await cache.keys()).kids, ["a"]);
  });
});

Deno.test("jwks cache: refreshes in the background before expiry", async () => {
  // A real clock: the refresh timer must fire by itself.
  await withCache({ refreshIntervalMs: 30 }, async ({ server, cache }) => {
    const a = await cache.keys();
    server.keys = await keySetWithKid("b");
    await server.received(2);
    // The answer to that request is being processed: wait until the cache has it.
    let b = await cache.keys();
    for (let i = 0; i < 1000 && b === a; i++) {
      await server.received(server.requests.length + 1);
      b = await cache.keys();
    }
    assert.deepEqual(b.kids, ["b"], "new keys arrived without any caller asking");
  }, { realClock: true });
});

Deno.test("jwks cache: an ETag makes an unchanged set cost a 304", async () => {
  await withCache({}, async ({ server, cache, results }) => {
    server.headers = { etag: '"v1"' };
    const a = await cache.keys();
    assert.equal(await cache.keysAfterUnknownKid(a), undefined);
    assert.equal(server.requests[1].headers.get("if-none-match"), '"v1"');
    assert.deepEqual(results, ["success", "not_modified"]);
    assert.equal(await cache.keys(), a);
  });
});

Deno.test("jwks cache: Cache-Control max-age sets the keys' lifetime", async () => {
  const timing = { refreshIntervalMs: MINUTE, maxStaleMs: 0 };
  await withCache(timing, async ({ server, cache, clock }) => {
    server.headers = { "cache-control": "public, max-age=3600" };
    const a = await cache.keys();
    clock.now = 30 * MINUTE; // long past refreshInterval, within max-age
    assert.equal(await cache.keys(), a);
    assert.equal(server.requests.length, 1);
    clock.now = 61 * MINUTE;
    server.status = 503;
    await assert.rejects(() => cache.keys(), JwksUnavailableError);
  });
  assert.equal(freshnessMs("max-age=60, must-revalidate"), 60_000);
  assert.equal(freshnessMs("no-store"), 0);
  assert.equal(freshnessMs("public"), undefined);
  assert.equal(freshnessMs(null), undefined);
});

Deno.test("jwks cache: a broken document keeps the last good keys", async () => {
  await withCache({}, async ({ server, cache, results, logger }) => {
    const a = await cache.keys();
    server.keys = '{"keys": []}';
    assert.equal(await cache.keysAfterUnknownKid(a), undefined);
    assert.equal(await cache.keys(), a);
    assert.deepEqual(results, ["success", "invalid"]);
    assert.ok(logger.lines.some((l) => l.level === "warn" && l.message === "JWKS fetch failed"));
  });
});

Deno.test("jwks cache: documents that are not usable key sets are 'invalid'", async () => {
  for (const broken of ['{"keys": []}', "<html>", '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}']) {
    await withCache({}, async ({ server, cache, results }) => {
      server.keys = broken;
      await assert.rejects(() => cache.keys(), JwksUnavailableError);
      assert.deepEqual(results, ["invalid"], broken);
    });
  }
});

Deno.test("jwks cache: a JWKS holding private keys never yields them", async () => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const privateJwk = { ...await exportJWK(privateKey), kid: "leaked" };
  await withCache({}, async ({ server, cache, results }) => {
    server.keys = { keys: [privateJwk, ...(await keySetWithKid("public")).keys] };
    assert.deepEqual((await cache.keys()).kids, ["public"], "the private key was dropped");
    assert.deepEqual(results, ["success"]);
  });
});

Deno.test("jwks cache: OIDC discovery finds the JWKS; a wrong issuer is refused", async () => {
  await withCache({}, async ({ server, cache }) => {
    assert.deepEqual((await cache.keys()).kids, ["a"]);
    assert.equal(server.discoveries, 1);
  }, { discovery: true });
  await withCache({}, async ({ server, cache, results }) => {
    server.claimedIssuer = "https://someone-else.example";
    await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.deepEqual(results, ["discovery_error"]);
    assert.equal(server.requests.length, 0, "keys are never fetched from an unverified document");
  }, { discovery: true });
});

Deno.test("jwks cache: a failed JWKS fetch makes the next attempt rediscover", async () => {
  await withCache({}, async ({ server, cache, clock }) => {
    const a = await cache.keys();
    server.status = 500;
    assert.equal(await cache.keysAfterUnknownKid(a), undefined);
    server.status = 200;
    clock.now += 30_000;
    await cache.keysAfterUnknownKid(a);
    assert.equal(server.discoveries, 2);
  }, { discovery: true });
});

Deno.test("jwks cache: a fetch that hangs times out", async () => {
  await withCache({ fetchTimeoutMs: 20 }, async ({ server, cache, results }) => {
    server.hold();
    await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.deepEqual(results, ["timeout"]);
  });
});

Deno.test("jwks cache: close() cancels the fetch in flight and stops refreshing", async () => {
  await withCache({ refreshIntervalMs: 1 }, async ({ server, cache, results }) => {
    server.hold();
    cache.start();
    await server.received(1);
    await cache.close(); // resolves although the server has not answered
    assert.deepEqual(results, [], "a cancelled fetch is not a failure");
    await assert.rejects(() => cache.keys(), JwksUnavailableError);
    assert.equal(server.requests.length, 1, "nothing fetched after close");
  });
});

Deno.test("jwks cache: retry backoff doubles from 1s, capped by the refresh interval", () => {
  const delays = [1, 2, 3, 4, 10, 1000].map((n) => retryDelayMs(n, 5 * MINUTE, 0.999999));
  assert.deepEqual(delays.map((d) => Math.round(d / 1000)), [1, 2, 4, 8, 300, 300]);
  assert.equal(Math.round(retryDelayMs(1, 5 * MINUTE, 0)), 500, "jitter halves at most");
  assert.equal(Math.round(retryDelayMs(7, 100, 0.999999)), 100, "short intervals cap it");
});
