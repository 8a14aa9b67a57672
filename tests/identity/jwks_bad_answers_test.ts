/**
 * What the JWKS cache does with answers that are not key sets, and with a provider that starts
 * an answer and never finishes it, against real local servers: a clear `invalid` error naming
 * the problem while the last good keys keep serving, and a fetch bounded by its timeout.
 */
import assert from "node:assert/strict";
import { JwksCache, type JwksFetchResult } from "../../src/identity/jwks_cache.ts";
import { fixedJwksUri } from "../../src/identity/jwks_locator.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { keySetWithKid, startJwksServer } from "./jwks_server.ts";

const TIMING = {
  refreshIntervalMs: 3_600_000,
  unknownKidCooldownMs: 30_000,
  maxStaleMs: 3_600_000,
  fetchTimeoutMs: 5_000,
};

Deno.test("jwks cache: an answer that is not JSON or has no keys list is refused by name; the keys stay", async () => {
  const server = startJwksServer(await keySetWithKid("a"));
  const clock = { now: 0 };
  const results: JwksFetchResult[] = [];
  const logger = new MemoryLogger();
  const cache = new JwksCache(server.issuer, fixedJwksUri(`${server.url}/keys`), TIMING, {
    onFetch: (result) => results.push(result),
    logger,
    now: () => clock.now,
  });
  const broken: [string, string][] = [
    ["<html>Service Unavailable</html>", "the JWK Set is not JSON"],
    ['{"kid": "a"}', 'not a JWK Set: expected an object with a "keys" list'],
    ['{"keys": {"kid": "a"}}', 'not a JWK Set: expected an object with a "keys" list'],
    ["[]", 'not a JWK Set: expected an object with a "keys" list'],
  ];
  try {
    const good = await cache.keys();
    for (const [body, problem] of broken) {
      clock.now += TIMING.unknownKidCooldownMs; // each refetch is allowed
      server.keys = body;
      assert.equal(await cache.keysAfterUnknownKid(good), undefined, body);
      assert.equal(await cache.keys(), good, `the last good keys still serve after ${body}`);
      const failure = logger.lines.at(-1)!;
      assert.equal(failure.message, "JWKS fetch failed");
      assert.equal(failure.fields?.result, "invalid");
      assert.equal(failure.fields?.error, `${server.url}/keys: ${problem}`);
      assert.equal(failure.fields?.servingCachedKeys, true);
    }
    assert.deepEqual(results, ["success", "invalid", "invalid", "invalid", "invalid"]);
  } finally {
    await cache.close();
    await server.close();
  }
});

Deno.test("jwks cache: a provider that sends headers, then never finishes the body, times out", async () => {
  let stalled!: () => void;
  const started = new Promise<void>((resolve) => stalled = resolve);
  const streams: ReadableStreamDefaultController[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const body = new ReadableStream({
      start(controller) {
        streams.push(controller);
        controller.enqueue(new TextEncoder().encode('{"keys": ['));
        stalled();
      },
    });
    return new Response(body, { headers: { "content-type": "application/jwk-set+json" } });
  });
  const results: JwksFetchResult[] = [];
  const cache = new JwksCache(
    "https://idp.ferry.test",
    fixedJwksUri(`http://127.0.0.1:${server.addr.port}/keys`),
    { ...TIMING, fetchTimeoutMs: 50 },
    { onFetch: (result) => results.push(result), now: () => 0 },
  );
  try {
    const lookup = cache.keys();
    await started;
    await assert.rejects(lookup, /could not be fetched/);
    assert.deepEqual(results, ["timeout"]);
  } finally {
    await cache.close();
    for (const stream of streams) stream.close();
    await server.shutdown();
  }
});
