/**
 * The one test every balancer runs: the contract of `Balancer.pick` from `balancer.ts`, checked
 * the same way against each implementation (and each consistent-hash key kind, plus its keyless
 * fallback). A new balancer joins by adding a line to `cases`.
 */
import assert from "node:assert/strict";
import type { Balancer, PickContext } from "../../src/upstream/balancers/balancer.ts";
import { createBalancer } from "../../src/upstream/balancers/create.ts";
import { Target } from "../../src/upstream/target.ts";
import { seededRandom } from "../helpers/random.ts";

interface ConformanceCase {
  name: string;
  make(targets: Target[]): Balancer;
  /** The context of the i-th request: every request carries a different key. */
  ctx(i: number): PickContext;
}

/** Request i: header `x-user: user-i`, cookie `session=s-i`, and a client IP unique to i. */
function requestContext(i: number): PickContext {
  return {
    header: (name) => (name.toLowerCase() === "x-user" ? `user-${i}` : null),
    cookie: (name) => (name === "session" ? `s-${i}` : undefined),
    clientIp: `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`,
  };
}

/** A request that carries no hash key at all. */
const keylessContext: PickContext = {
  header: () => null,
  cookie: () => undefined,
  clientIp: "",
};

const cases: ConformanceCase[] = [
  {
    name: "round_robin",
    make: (targets) => createBalancer({ type: "round_robin" }, targets),
    ctx: requestContext,
  },
  {
    name: "least_request",
    make: (targets) => createBalancer({ type: "least_request" }, targets, seededRandom(7)),
    ctx: requestContext,
  },
  {
    name: "consistent_hash on a header",
    make: (targets) =>
      createBalancer({ type: "consistent_hash", key: { header: "x-user" } }, targets),
    ctx: requestContext,
  },
  {
    name: "consistent_hash on a cookie",
    make: (targets) =>
      createBalancer({ type: "consistent_hash", key: { cookie: "session" } }, targets),
    ctx: requestContext,
  },
  {
    name: "consistent_hash on the client IP",
    make: (targets) =>
      createBalancer({ type: "consistent_hash", key: { clientIp: true } }, targets),
    ctx: requestContext,
  },
  {
    name: "consistent_hash without the key (keyless fallback)",
    make: (targets) =>
      createBalancer({ type: "consistent_hash", key: { header: "x-user" } }, targets),
    ctx: () => keylessContext,
  },
];

function makeTargets(weights: number[]): Target[] {
  return weights.map((weight, i) => new Target(`http://127.0.0.1:${9100 + i}`, weight));
}

/** Picks `n` times and counts how often each target was chosen. */
function countPicks(
  balancer: Balancer,
  c: ConformanceCase,
  n: number,
  exclude?: ReadonlySet<Target>,
): Map<Target | undefined, number> {
  const counts = new Map<Target | undefined, number>();
  for (let i = 0; i < n; i++) {
    const t = balancer.pick(c.ctx(i), exclude);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

for (const c of cases) {
  Deno.test(`${c.name}: never returns an unhealthy target`, () => {
    const targets = makeTargets([1, 1, 1, 1, 1]);
    targets[1].healthy = false;
    targets[3].healthy = false;
    const balancer = c.make(targets);
    const counts = countPicks(balancer, c, 2000);
    assert.equal(counts.get(targets[1]), undefined);
    assert.equal(counts.get(targets[3]), undefined);
    assert.equal(counts.get(undefined), undefined);
  });

  Deno.test(`${c.name}: follows health changes after it was built`, () => {
    const targets = makeTargets([1, 1, 1]);
    const balancer = c.make(targets);
    targets[0].healthy = false;
    assert.equal(countPicks(balancer, c, 500).get(targets[0]), undefined);
    targets[0].healthy = true;
    assert.ok((countPicks(balancer, c, 500).get(targets[0]) ?? 0) > 0, "recovered target unused");
  });

  Deno.test(`${c.name}: returns undefined when every target is unhealthy`, () => {
    const targets = makeTargets([1, 2, 3]);
    for (const t of targets) t.healthy = false;
    const balancer = c.make(targets);
    for (let i = 0; i < 50; i++) {
      assert.equal(balancer.pick(c.ctx(i)), undefined);
      assert.equal(balancer.pick(c.ctx(i), new Set([targets[0]])), undefined);
    }
  });

  Deno.test(`${c.name}: returns undefined when there are no targets`, () => {
    assert.equal(c.make([]).pick(c.ctx(0)), undefined);
  });

  Deno.test(`${c.name}: with one target always returns it`, () => {
    const targets = makeTargets([3]);
    const balancer = c.make(targets);
    for (let i = 0; i < 100; i++) assert.equal(balancer.pick(c.ctx(i)), targets[0]);
  });

  Deno.test(`${c.name}: skips excluded targets while another healthy one exists`, () => {
    const targets = makeTargets([1, 1, 1, 1]);
    targets[3].healthy = false;
    const balancer = c.make(targets);
    const exclude = new Set([targets[0], targets[1]]);
    const counts = countPicks(balancer, c, 500, exclude);
    assert.deepEqual([...counts.keys()], [targets[2]]);
  });

  Deno.test(`${c.name}: returns an excluded target when it is the only healthy one`, () => {
    const targets = makeTargets([1, 1, 1]);
    targets[0].healthy = false;
    targets[2].healthy = false;
    const balancer = c.make(targets);
    for (let i = 0; i < 50; i++) {
      assert.equal(balancer.pick(c.ctx(i), new Set([targets[1]])), targets[1]);
    }
    // Several healthy ones, all excluded: still a healthy (excluded) one, never an unhealthy one.
    targets[2].healthy = true;
    for (let i = 0; i < 50; i++) {
      const t = balancer.pick(c.ctx(i), new Set([targets[1], targets[2]]));
      assert.ok(t === targets[1] || t === targets[2], `got ${t?.url}`);
    }
  });

  Deno.test(`${c.name}: a retry sequence visits every healthy target once`, () => {
    const targets = makeTargets([1, 2, 1, 3, 1]);
    targets[2].healthy = false;
    const balancer = c.make(targets);
    for (let i = 0; i < 100; i++) {
      const tried = new Set<Target>();
      for (let attempt = 0; attempt < 4; attempt++) {
        const t = balancer.pick(c.ctx(i), tried);
        assert.ok(t !== undefined && t.healthy && !tried.has(t), `attempt ${attempt} of ${i}`);
        tried.add(t);
      }
    }
  });

  Deno.test(`${c.name}: distributes over all healthy targets`, () => {
    const targets = makeTargets([1, 1, 1, 1, 1]);
    targets[2].healthy = false;
    const balancer = c.make(targets);
    const picks = 4000;
    const counts = countPicks(balancer, c, picks);
    for (const t of targets) {
      if (!t.healthy) continue;
      // A fair share is picks/4; every healthy target gets at least half of one.
      assert.ok((counts.get(t) ?? 0) >= picks / 8, `${t.url}: ${counts.get(t)}`);
    }
  });

  Deno.test(`${c.name}: sends more traffic to a heavier target`, () => {
    const targets = makeTargets([3, 1]);
    const balancer = c.make(targets);
    const picks = 4000;
    const heavy = (countPicks(balancer, c, picks).get(targets[0]) ?? 0) / picks;
    // Weight 3 of 4 is a 75% share; hashing and random draws land near it, not on it.
    assert.ok(heavy > 0.65 && heavy < 0.85, `heavy share ${heavy}`);
  });
}
