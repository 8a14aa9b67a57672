/**
 * Sticky splits through a real gateway over real HTTP: a user key always lands on the same
 * side, shares follow the weights within a stated bound, and moving 5% → 10% with a reload
 * moves only ~5% of the keys, every one from v1 to v2. Keyless requests take the round-robin.
 */
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.ts";
import { sendAll, startNamedUpstreams, tally } from "./upstreams.ts";

const KEYS = 2_000;
const REPEATS = 3;

function stickyConfig(upstreams: Record<string, unknown>, v1: number, v2: number) {
  return {
    upstreams,
    routes: [{
      name: "checkout",
      split: {
        targets: [{ upstream: "v1", weight: v1 }, { upstream: "v2", weight: v2 }],
        sticky: { header: "X-User-Id" },
      },
    }],
  };
}

/** Sends every key `repeats` times (interleaved) and returns each key's set of sides. */
async function sidesByKey(url: string, repeats: number): Promise<Map<string, Set<string>>> {
  const total = KEYS * repeats;
  const keyOf = (i: number) => `user-${i % KEYS}`;
  const answers = await sendAll(
    (req) => fetch(req),
    total,
    (i) => new Request(`${url}/checkout`, { headers: { "x-user-id": keyOf(i) } }),
  );
  const sides = new Map<string, Set<string>>();
  answers.forEach((side, i) => {
    const key = keyOf(i);
    if (!sides.has(key)) sides.set(key, new Set());
    sides.get(key)!.add(side);
  });
  return sides;
}

/** The one side of each key; fails when a key saw both. */
function onlySide(sides: Map<string, Set<string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, set] of sides) {
    assert.equal(set.size, 1, `${key} saw ${[...set].join(" and ")}`);
    out.set(key, [...set][0]);
  }
  return out;
}

Deno.test("sticky 95/5: no key sees both sides; 5% ± 1.5 points of keys on v2; 5% → 10% moves ≤ 6%, all v1 → v2", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await startTestGateway(stickyConfig(ups.config, 95, 5), { admin: false });
  try {
    const before = onlySide(await sidesByKey(gw.url, REPEATS));
    assert.equal(before.size, KEYS);
    const onV2 = [...before.values()].filter((s) => s === "v2").length / KEYS;
    // Stated bound: the hash is fixed, so for these keys the share is fixed too (measured: 4.25%, and 4.00% moved).
    assert.ok(onV2 >= 0.035 && onV2 <= 0.065, `v2 share ${onV2}`);

    const result = await gw.reload(stickyConfig(ups.config, 90, 10));
    assert.equal(result.changed, true);
    const after = onlySide(await sidesByKey(gw.url, 1));
    const moved = [...before].filter(([key, side]) => after.get(key) !== side);
    const movedShare = moved.length / KEYS;
    assert.ok(movedShare <= 0.06, `moved ${movedShare}`);
    assert.ok(movedShare >= 0.03, `the new weights must move someone: moved ${movedShare}`);
    for (const [key, side] of moved) {
      assert.deepEqual([side, after.get(key)], ["v1", "v2"], key);
    }
  } finally {
    await gw.close();
    await ups.close();
  }
});

Deno.test("sticky: requests without the key fall back to exact weighted round-robin", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await startTestGateway(stickyConfig(ups.config, 95, 5), { admin: false });
  try {
    const answers = await sendAll((req) => fetch(req), 200, () => new Request(`${gw.url}/x`), 8);
    assert.deepEqual(tally(answers), { v1: 190, v2: 10 });
  } finally {
    await gw.close();
    await ups.close();
  }
});
