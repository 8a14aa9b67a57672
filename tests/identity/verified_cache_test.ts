/** The cache of verified Basic credentials: TTL on a test clock, LRU bound, keys by pair. */
import assert from "node:assert/strict";
import { VerifiedCache } from "../../src/identity/verified_cache.ts";

/** A cache on a clock the test moves by hand. */
function cacheAt(ttlMs: number, maxEntries: number) {
  const clock = { now: 1_000 };
  return { clock, cache: new VerifiedCache(ttlMs, maxEntries, () => clock.now) };
}

Deno.test("an entry is a hit until its TTL has passed, then a miss", () => {
  const { clock, cache } = cacheAt(60_000, 10);
  const key = cache.key("ana", "pw");
  assert.equal(cache.has(key), false);
  cache.add(key);
  clock.now += 59_999;
  assert.equal(cache.has(key), true);
  clock.now += 1;
  assert.equal(cache.has(key), false);
  assert.equal(cache.size, 0, "an expired entry is dropped when looked up");
});

Deno.test("a TTL of zero caches nothing", () => {
  const { cache } = cacheAt(0, 10);
  const key = cache.key("ana", "pw");
  cache.add(key);
  assert.equal(cache.has(key), false);
  assert.equal(cache.size, 0);
});

Deno.test("when full, the least recently used entry goes first", () => {
  const { cache } = cacheAt(60_000, 2);
  const [a, b, c] = ["a", "b", "c"].map((u) => cache.key(u, "pw"));
  cache.add(a);
  cache.add(b);
  assert.equal(cache.has(a), true, "a is now more recent than b");
  cache.add(c);
  assert.equal(cache.size, 2);
  assert.equal(cache.has(b), false, "b was the least recently used");
  assert.equal(cache.has(a), true);
  assert.equal(cache.has(c), true);
});

Deno.test("keys separate user from password, and differ between caches", () => {
  const { cache } = cacheAt(60_000, 10);
  assert.notEqual(cache.key("a", "b:c"), cache.key("a:b", "c"));
  assert.notEqual(cache.key("a", "bc"), cache.key("ab", "c"));
  assert.equal(cache.key("ana", "pw"), cache.key("ana", "pw"));
  const other = cacheAt(60_000, 10).cache;
  assert.notEqual(cache.key("ana", "pw"), other.key("ana", "pw"), "a random HMAC key per cache");
  // A digest, never the password itself (long enough that base64 cannot contain it by chance:
  // a two-letter password did, about once in a hundred runs).
  const password = "correct-horse-battery-staple";
  assert.match(cache.key("ana", password), /^[A-Za-z0-9+/]{43}=$/);
  assert.ok(!cache.key("ana", password).includes(password));
});
