/**
 * Weighted rendezvous hashing for sticky splits: shares follow the weights, a weight change
 * moves only the keys that must move (all toward the side that grew), and the list order and
 * unrelated upstreams do not matter.
 */
import assert from "node:assert/strict";
import { RendezvousHash, stickyKeyReader } from "../../src/traffic/sticky.ts";
import type { TrafficInput } from "../../src/traffic/traffic_input.ts";

const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

function sides(names: string[], weights: number[]): string[] {
  const hash = new RendezvousHash(names, weights);
  return KEYS.map((k) => names[hash.pick(k)]);
}

function share(assigned: string[], name: string): number {
  return assigned.filter((s) => s === name).length / assigned.length;
}

Deno.test("each side gets its weight's share of keys (100,000 keys, within ±0.5 points)", () => {
  const split = sides(["v1", "v2"], [95, 5]);
  assert.ok(Math.abs(share(split, "v2") - 0.05) < 0.005, String(share(split, "v2")));
  const three = sides(["a", "b", "c"], [1, 2, 1]);
  for (const [name, want] of [["a", 0.25], ["b", 0.5], ["c", 0.25]] as const) {
    assert.ok(Math.abs(share(three, name) - want) < 0.005, `${name}: ${share(three, name)}`);
  }
});

Deno.test("5% → 10% moves ~5% of keys, every one of them from v1 to v2", () => {
  const before = sides(["v1", "v2"], [95, 5]);
  const after = sides(["v1", "v2"], [90, 10]);
  const moved = KEYS.flatMap((_, i) => (before[i] !== after[i] ? [i] : []));
  assert.ok(moved.length / KEYS.length <= 0.055, `moved ${moved.length}`);
  assert.ok(moved.length / KEYS.length >= 0.045, `moved ${moved.length}`);
  for (const i of moved) assert.deepEqual([before[i], after[i]], ["v1", "v2"]);
});

Deno.test("with three upstreams, raising one weight only pulls keys to that upstream", () => {
  const before = sides(["a", "b", "c"], [40, 30, 30]);
  const after = sides(["a", "b", "c"], [40, 30, 40]);
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] !== after[i]) {
      assert.equal(after[i], "c", `${KEYS[i]}: ${before[i]} → ${after[i]}`);
    }
  }
});

Deno.test("the order of the targets does not change any key's side", () => {
  const listed = sides(["v1", "v2", "v3"], [5, 3, 2]);
  const reordered = sides(["v3", "v1", "v2"], [2, 5, 3]);
  assert.deepEqual(listed, reordered);
});

Deno.test("removing an upstream moves only its own keys", () => {
  const before = sides(["a", "b", "c"], [1, 1, 1]);
  const after = sides(["a", "c"], [1, 1]);
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] !== "b") assert.equal(after[i], before[i], KEYS[i]);
  }
});

function input(parts: Partial<TrafficInput>): TrafficInput {
  return {
    header: () => null,
    cookie: () => undefined,
    queryParam: () => null,
    claims: undefined,
    knowsClaims: true,
    clientIp: undefined,
    ...parts,
  };
}

Deno.test("key readers: header, cookie, scalar claims and client IP; empty means no key", () => {
  const headers = input({
    header: (n) => (n === "x-user-id" ? "u1" : n === "x-empty" ? "" : null),
  });
  assert.equal(stickyKeyReader({ header: "x-user-id" })(headers), "u1");
  assert.equal(stickyKeyReader({ header: "x-empty" })(headers), undefined);
  assert.equal(stickyKeyReader({ cookie: "uid" })(input({ cookie: () => "c9" })), "c9");
  const claims = input({ claims: { sub: "alice", n: 7, list: ["a"], blank: "" } });
  assert.equal(stickyKeyReader({ claim: "sub" })(claims), "alice");
  assert.equal(stickyKeyReader({ claim: "n" })(claims), "7");
  assert.equal(stickyKeyReader({ claim: "list" })(claims), undefined);
  assert.equal(stickyKeyReader({ claim: "blank" })(claims), undefined);
  assert.equal(stickyKeyReader({ claim: "constructor" })(claims), undefined);
  assert.equal(stickyKeyReader({ clientIp: true })(input({ clientIp: "10.0.0.1" })), "10.0.0.1");
});
