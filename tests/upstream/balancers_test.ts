/** Algorithm-specific behaviour of each balancer; the shared contract is in the conformance test. */
import assert from "node:assert/strict";
import type { PickContext } from "../../src/upstream/balancers/balancer.ts";
import { ConsistentHashBalancer } from "../../src/upstream/balancers/consistent_hash.ts";
import { createBalancer } from "../../src/upstream/balancers/create.ts";
import { hashString } from "../../src/upstream/balancers/hash.ts";
import { LeastRequestBalancer } from "../../src/upstream/balancers/least_request.ts";
import { RoundRobinBalancer } from "../../src/upstream/balancers/round_robin.ts";
import { Target } from "../../src/upstream/target.ts";
import { seededRandom } from "../helpers/random.ts";

const noKey: PickContext = { header: () => null, cookie: () => undefined, clientIp: "" };

function makeTargets(weights: number[], firstPort = 9200): Target[] {
  return weights.map((weight, i) => new Target(`http://127.0.0.1:${firstPort + i}`, weight));
}

/** A context whose `x-user` header is `user`, and nothing else. */
function userContext(user: string): PickContext {
  return {
    header: (name) => (name === "x-user" ? user : null),
    cookie: () => undefined,
    clientIp: "",
  };
}

/** Returns the given numbers in turn, then fails: the test names every draw it expects. */
function scriptedRandom(values: number[]): () => number {
  let i = 0;
  return () => {
    assert.ok(i < values.length, "more random draws than scripted");
    return values[i++];
  };
}

// ---------------------------------------------------------------------------- round robin

Deno.test("round_robin: weights 95/5 give exactly 9,500/500 over 10,000 picks", () => {
  const [heavy, light] = makeTargets([95, 5]);
  const balancer = new RoundRobinBalancer([heavy, light]);
  const picks = Array.from({ length: 10_000 }, () => balancer.pick(noKey));
  assert.equal(picks.filter((t) => t === heavy).length, 9_500);
  assert.equal(picks.filter((t) => t === light).length, 500);
  // Exact in every window of 100 consecutive picks, not just overall.
  let lightInWindow = picks.slice(0, 100).filter((t) => t === light).length;
  for (let start = 1; start + 100 <= picks.length; start++) {
    if (picks[start - 1] === light) lightInWindow--;
    if (picks[start + 99] === light) lightInWindow++;
    assert.equal(lightInWindow, 5, `window starting at ${start}`);
  }
});

Deno.test("round_robin: weights 95/5 interleave smoothly", () => {
  const [heavy, light] = makeTargets([95, 5]);
  const balancer = new RoundRobinBalancer([heavy, light]);
  const lightAt: number[] = [];
  for (let i = 0; i < 1_000; i++) if (balancer.pick(noKey) === light) lightAt.push(i);
  // Smooth WRR spreads the 5 light picks of each 100 evenly: one every 100/5 = 20 picks, so
  // the longest run of the heavy target is 19 (plain WRR would send 95 in a row). Starting from
  // zero, the light target's `current` first exceeds the heavy one's at pick 10.
  assert.equal(lightAt[0], 10);
  for (let k = 1; k < lightAt.length; k++) assert.equal(lightAt[k] - lightAt[k - 1], 20);
});

Deno.test("round_robin: weights 5/1/1 give nginx's sequence a a b a c a a", () => {
  const targets = makeTargets([5, 1, 1]);
  const balancer = new RoundRobinBalancer(targets);
  const names = Array.from({ length: 14 }, () => "abc"[targets.indexOf(balancer.pick(noKey)!)]);
  assert.equal(names.join(" "), "a a b a c a a a a b a c a a");
});

Deno.test("round_robin: equal weights give plain round robin, skipping unhealthy targets", () => {
  const targets = makeTargets([2, 2, 2, 2]);
  const balancer = new RoundRobinBalancer(targets);
  const order = () => Array.from({ length: 8 }, () => targets.indexOf(balancer.pick(noKey)!));
  assert.deepEqual(order(), [0, 1, 2, 3, 0, 1, 2, 3]);
  targets[1].healthy = false;
  assert.deepEqual(order().slice(0, 6), [0, 2, 3, 0, 2, 3]);
});

Deno.test("round_robin: the remaining targets keep exact shares while one is down", () => {
  const targets = makeTargets([3, 1, 5]);
  const balancer = new RoundRobinBalancer(targets);
  targets[2].healthy = false;
  const counts = [0, 0, 0];
  for (let i = 0; i < 400; i++) counts[targets.indexOf(balancer.pick(noKey)!)]++;
  assert.deepEqual(counts, [300, 100, 0]);
});

// --------------------------------------------------------------------------- least request

Deno.test("least_request: of the two drawn targets, takes the one with fewer in flight", () => {
  const targets = makeTargets([1, 1, 1, 1]);
  targets[0].inflight = 5;
  targets[3].inflight = 2;
  // First draw 0.1 × weight 4 → target 0. Second draw among the other three (weight 3):
  // 0.9 × 3 = 2.7 → the third of them, target 3. Target 3 has fewer in flight.
  const balancer = new LeastRequestBalancer(targets, scriptedRandom([0.1, 0.9]));
  assert.equal(balancer.pick(noKey), targets[3]);
});

Deno.test("least_request: a tie goes to the first draw", () => {
  const targets = makeTargets([1, 1, 1, 1]);
  for (const t of targets) t.inflight = 3;
  const balancer = new LeastRequestBalancer(targets, scriptedRandom([0.6, 0.1, 0.1, 0.6]));
  assert.equal(balancer.pick(noKey), targets[2]); // draws 2, then 0
  assert.equal(balancer.pick(noKey), targets[0]); // draws 0, then 2
});

Deno.test("least_request: draws two distinct targets, weighted, among the healthy ones", () => {
  const targets = makeTargets([1, 4, 1, 2]);
  targets[2].healthy = false;
  targets[0].inflight = 1;
  // Eligible: 0 (w1), 1 (w4), 3 (w2), total 7. 0.5 × 7 = 3.5 → target 1. Without it, total 3:
  // 0.0 → target 0. Target 0 loses on inflight (1 vs 0), so target 1 wins.
  let balancer = new LeastRequestBalancer(targets, scriptedRandom([0.5, 0]));
  assert.equal(balancer.pick(noKey), targets[1]);
  // 0.99 × 7 → target 3; then 0.99 × 5 → target 1 (target 3 is not drawn twice).
  targets[1].inflight = 0;
  targets[3].inflight = 1;
  balancer = new LeastRequestBalancer(targets, scriptedRandom([0.99, 0.99]));
  assert.equal(balancer.pick(noKey), targets[1]);
});

Deno.test("least_request: the most loaded target never wins", () => {
  const targets = makeTargets([1, 1, 1]);
  targets[0].inflight = 0;
  targets[1].inflight = 1;
  targets[2].inflight = 9;
  const balancer = new LeastRequestBalancer(targets, seededRandom(42));
  const counts = [0, 0, 0];
  for (let i = 0; i < 3_000; i++) counts[targets.indexOf(balancer.pick(noKey)!)]++;
  assert.equal(counts[2], 0);
  // Target 0 wins every pair it is in (2 of the 3 pairs): about 2/3 of the picks.
  assert.ok(counts[0] > counts[1] * 1.5, `${counts}`);
});

Deno.test("least_request: with two healthy targets always takes the less loaded", () => {
  const targets = makeTargets([1, 1, 1]);
  targets[1].healthy = false;
  targets[0].inflight = 4;
  targets[2].inflight = 1;
  const balancer = new LeastRequestBalancer(targets, seededRandom(3));
  for (let i = 0; i < 200; i++) assert.equal(balancer.pick(noKey), targets[2]);
});

Deno.test("least_request: defaults to Math.random", () => {
  const targets = makeTargets([1, 1]);
  targets[0].inflight = 1;
  assert.equal(new LeastRequestBalancer(targets).pick(noKey), targets[1]);
});

// --------------------------------------------------------------------------- consistent hash

const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

/** Where each of KEYS goes. */
function mapKeys(balancer: { pick(ctx: PickContext): Target | undefined }): (string | undefined)[] {
  return KEYS.map((key) => balancer.pick(userContext(key))?.url);
}

const byHeader = { header: "x-user" };

Deno.test("consistent_hash: the same key always goes to the same target", () => {
  const balancer = new ConsistentHashBalancer(makeTargets([1, 1, 1, 1, 1]), byHeader);
  const first = mapKeys(balancer);
  for (let round = 0; round < 3; round++) assert.deepEqual(mapKeys(balancer), first);
});

Deno.test("consistent_hash: keys spread evenly over the targets", () => {
  const targets = makeTargets([1, 1, 1, 1, 1]);
  const mapped = mapKeys(new ConsistentHashBalancer(targets, byHeader));
  for (const t of targets) {
    const share = mapped.filter((url) => url === t.url).length / KEYS.length;
    // 160 virtual nodes per target keep each share within a few points of 20%.
    assert.ok(share > 0.15 && share < 0.25, `${t.url}: ${share}`);
  }
});

Deno.test("consistent_hash: the order of targets in the config does not matter", () => {
  const targets = makeTargets([1, 2, 1, 3]);
  const forward = mapKeys(new ConsistentHashBalancer(targets, byHeader));
  const reversed = mapKeys(new ConsistentHashBalancer([...targets].reverse(), byHeader));
  assert.deepEqual(reversed, forward);
});

Deno.test("consistent_hash: removing one of 5 targets remaps only the keys it had", () => {
  const targets = makeTargets([1, 1, 1, 1, 1]);
  const removed = targets[2];
  const before = mapKeys(new ConsistentHashBalancer(targets, byHeader));
  const after = mapKeys(new ConsistentHashBalancer(targets.filter((t) => t !== removed), byHeader));
  const takers = new Set<string | undefined>();
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] === removed.url) takers.add(after[i]);
    else assert.equal(after[i], before[i], `key ${KEYS[i]} moved`);
  }
  // Its keys are shared out among all the others, not dumped on a neighbour.
  assert.equal(takers.size, 4);
  assert.ok(!takers.has(removed.url));
});

Deno.test("consistent_hash: an unhealthy target's keys go where removal would send them", () => {
  const targets = makeTargets([1, 2, 1, 1, 1]);
  const balancer = new ConsistentHashBalancer(targets, byHeader);
  const healthyMapping = mapKeys(balancer);
  targets[1].healthy = false;
  const withoutIt = mapKeys(
    new ConsistentHashBalancer(targets.filter((_, i) => i !== 1), byHeader),
  );
  assert.deepEqual(mapKeys(balancer), withoutIt);
  // And it gets exactly its keys back when it recovers.
  targets[1].healthy = true;
  assert.deepEqual(mapKeys(balancer), healthyMapping);
});

Deno.test("consistent_hash: adding weight to one target moves few keys, all to it", () => {
  const before = makeTargets([1, 1, 1, 1, 1]);
  const after = makeTargets([1, 1, 2, 1, 1]);
  const from = mapKeys(new ConsistentHashBalancer(before, byHeader));
  const to = mapKeys(new ConsistentHashBalancer(after, byHeader));
  let moved = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (from[i] === to[i]) continue;
    moved++;
    assert.equal(to[i], after[2].url, `key ${KEYS[i]} moved elsewhere`);
  }
  // Its share grows from 1/5 to 2/6, so ideally 2/6 - 1/5 ≈ 13% of keys move.
  const fraction = moved / KEYS.length;
  assert.ok(fraction > 0.08 && fraction < 0.2, `moved ${fraction}`);
});

Deno.test("consistent_hash: adding a sixth target takes about 1/6 of keys, only to it", () => {
  const five = makeTargets([1, 1, 1, 1, 1]);
  const six = [...five, new Target("http://127.0.0.1:9300", 1)];
  const from = mapKeys(new ConsistentHashBalancer(five, byHeader));
  const to = mapKeys(new ConsistentHashBalancer(six, byHeader));
  let moved = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (from[i] === to[i]) continue;
    moved++;
    assert.equal(to[i], six[5].url);
  }
  const fraction = moved / KEYS.length;
  assert.ok(fraction > 0.12 && fraction < 0.22, `moved ${fraction}`);
});

Deno.test("consistent_hash: hashes on the configured attribute only", () => {
  const targets = makeTargets([1, 1, 1, 1, 1]);
  const ctx = (header: string, cookie: string, clientIp: string): PickContext => ({
    header: (name) => (name === "x-user" ? header : null),
    cookie: (name) => (name === "sid" ? cookie : undefined),
    clientIp,
  });
  const cases = [
    { key: { header: "x-user" }, vary: (i: number) => ctx(`u${i}`, "c", "1.1.1.1") },
    { key: { cookie: "sid" }, vary: (i: number) => ctx("u", `c${i}`, "1.1.1.1") },
    { key: { clientIp: true as const }, vary: (i: number) => ctx("u", "c", `1.1.1.${i}`) },
  ];
  for (const { key, vary } of cases) {
    const balancer = new ConsistentHashBalancer(targets, key);
    const seen = new Set<Target | undefined>();
    for (let i = 0; i < 100; i++) seen.add(balancer.pick(vary(i)));
    assert.equal(seen.size, 5, `${JSON.stringify(key)} ignores its attribute`);
    // The other two attributes change, this one does not: always the same target.
    const same = new Set<Target | undefined>();
    for (let i = 0; i < 100; i++) {
      const other = "header" in key
        ? ctx("u", `c${i}`, `2.2.2.${i}`)
        : "cookie" in key
        ? ctx(`u${i}`, "c", `2.2.2.${i}`)
        : ctx(`u${i}`, `c${i}`, "1.1.1.1");
      same.add(balancer.pick(other));
    }
    assert.equal(same.size, 1, `${JSON.stringify(key)} hashes something else`);
  }
});

Deno.test("consistent_hash: a missing or empty key falls back to weighted round robin", () => {
  const targets = makeTargets([2, 1, 1]);
  const balancer = new ConsistentHashBalancer(targets, byHeader);
  const order = Array.from({ length: 8 }, (_, i) => {
    const ctx = i % 2 === 0 ? noKey : userContext("");
    return targets.indexOf(balancer.pick(ctx)!);
  });
  assert.deepEqual(order, [0, 1, 2, 0, 0, 1, 2, 0]);
});

Deno.test("consistent_hash: a retry walks on to the next target on the ring", () => {
  const targets = makeTargets([1, 1, 1, 1, 1]);
  const balancer = new ConsistentHashBalancer(targets, byHeader);
  for (const key of KEYS.slice(0, 200)) {
    const first = balancer.pick(userContext(key))!;
    const retry = balancer.pick(userContext(key), new Set([first]));
    // The retry target is the one the key would fall to if `first` were down.
    first.healthy = false;
    assert.equal(balancer.pick(userContext(key)), retry);
    first.healthy = true;
  }
});

Deno.test("consistent_hash: a tiny weight still owns a point; exclusion falls back to it", () => {
  // Weight 0.001 rounds to one virtual node per target: the ring is no bigger than the target
  // list, so the walk covers the whole ring before it can fall back to an excluded target.
  const targets = makeTargets([0.001, 0.001, 0.001]);
  const balancer = new ConsistentHashBalancer(targets, byHeader);
  assert.equal(new Set(mapKeys(balancer)).size, 3);
  targets[0].healthy = false;
  targets[2].healthy = false;
  for (const key of KEYS.slice(0, 50)) {
    assert.equal(balancer.pick(userContext(key), new Set([targets[1]])), targets[1]);
  }
});

Deno.test("consistent_hash: very large weights are scaled down together", () => {
  // 160 points per unit would be 640 million points; the ring is capped and keeps the ratio.
  const targets = makeTargets([1_000_000, 3_000_000]);
  const mapped = mapKeys(new ConsistentHashBalancer(targets, byHeader));
  const heavy = mapped.filter((url) => url === targets[1].url).length / KEYS.length;
  assert.ok(heavy > 0.7 && heavy < 0.8, `heavy share ${heavy}`);
});

Deno.test("hashString: unsigned 32-bit, deterministic, and sensitive to the last character", () => {
  assert.equal(hashString("user-1"), hashString("user-1"));
  const values = ["", "a", "user-1", "user-2", "ü€😀"].map(hashString);
  for (const h of values) assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
  assert.equal(new Set(values).size, values.length);
  // Sequential keys differ in many bits, not just the low ones.
  const diff = (hashString("user-1") ^ hashString("user-2")) >>> 0;
  assert.ok(diff >>> 16 !== 0, "high bits unchanged");
});

// ------------------------------------------------------------------------------------ create

Deno.test("createBalancer: builds the balancer the config names", () => {
  const targets = makeTargets([1, 1]);
  assert.ok(createBalancer({ type: "round_robin" }, targets) instanceof RoundRobinBalancer);
  assert.ok(createBalancer({ type: "least_request" }, targets) instanceof LeastRequestBalancer);
  assert.ok(
    createBalancer({ type: "consistent_hash", key: { clientIp: true } }, targets) instanceof
      ConsistentHashBalancer,
  );
});

Deno.test("createBalancer: passes the random source to least_request", () => {
  const targets = makeTargets([1, 1, 1]);
  const balancer = createBalancer({ type: "least_request" }, targets, scriptedRandom([0.9, 0.9]));
  // 0.9 × 3 → target 2; then 0.9 × 2 → target 1; equal inflight, so the first draw wins.
  assert.equal(balancer.pick(noKey), targets[2]);
});

Deno.test("createBalancer: rejects weights that are not positive numbers, naming the target", () => {
  for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const targets = [
      new Target("http://127.0.0.1:9400", 1),
      new Target("http://127.0.0.1:9401", weight),
    ];
    assert.throws(
      () => createBalancer({ type: "round_robin" }, targets),
      (e: unknown) => e instanceof RangeError && e.message.includes("http://127.0.0.1:9401"),
    );
  }
});
