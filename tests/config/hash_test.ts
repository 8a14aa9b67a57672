import assert from "node:assert/strict";
import { canonicalJson, configHash } from "../../src/config/hash.ts";

Deno.test("canonical JSON sorts keys at every depth and drops undefined values", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: "x" }, u: undefined }),
    '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
  );
});

Deno.test("canonical JSON refuses what JSON cannot hold instead of hashing it wrongly", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [cyclic, { f: () => 1 }, { n: Number.NaN }, { b: 1n }]) {
    assert.throws(() => canonicalJson(bad), TypeError);
  }
  // The same object twice, side by side, is not a cycle.
  const shared = { a: 1 };
  assert.equal(canonicalJson([shared, shared]), '[{"a":1},{"a":1}]');
});

Deno.test("the hash is SHA-256 hex of the canonical JSON, whatever the key order", async () => {
  const a = await configHash({ x: 1, y: [1, 2] });
  assert.equal(a, await configHash({ y: [1, 2], x: 1 }));
  assert.notEqual(a, await configHash({ x: 1, y: [2, 1] }));
  // echo -n '{}' | sha256sum
  assert.equal(
    await configHash({}),
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  );
});
