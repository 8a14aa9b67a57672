/**
 * Weighted splits through a real gateway to real upstreams that answer with their own name:
 * exact 95/5 shares by smooth weighted round-robin, over the in-process request path and over
 * real HTTP, and the round-robin position carried across a reload that left the split alone.
 */
import assert from "node:assert/strict";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { createGateway } from "../../src/server/gateway.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { sendAll, startNamedUpstreams, tally } from "./upstreams.ts";

function splitConfig(upstreams: Record<string, unknown>, v1: number, v2: number) {
  return {
    upstreams,
    routes: [{
      name: "checkout",
      match: { path: "/checkout/*" },
      split: { targets: [{ upstream: "v1", weight: v1 }, { upstream: "v2", weight: v2 }] },
    }],
  };
}

Deno.test("10,000 requests through a 95/5 split land exactly 9,500 / 500", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await createGateway(splitConfig(ups.config, 95, 5), { logger: new MemoryLogger() });
  try {
    const answers = await sendAll(
      gw.fetch,
      10_000,
      (i) => new Request(`http://gw.test/checkout/${i}`),
    );
    assert.deepEqual(tally(answers), { v1: 9_500, v2: 500 });
    // The upstreams agree: each received exactly its share.
    assert.equal(ups.byName.v1.received.length, 9_500);
    assert.equal(ups.byName.v2.received.length, 500);
  } finally {
    await gw.close();
    await ups.close();
  }
});

Deno.test("over real HTTP, 400 requests through a 95/5 split land exactly 380 / 20", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await startTestGateway(splitConfig(ups.config, 95, 5), { admin: false });
  try {
    const answers = await sendAll(
      (req) => fetch(req),
      400,
      (i) => new Request(`${gw.url}/checkout/${i}`),
      16,
    );
    assert.deepEqual(tally(answers), { v1: 380, v2: 20 });
  } finally {
    await gw.close();
    await ups.close();
  }
});

/** Sends `n` requests one at a time: the order of picks is then the order of the sequence. */
async function sequence(fetch: (req: Request) => Promise<Response>, n: number): Promise<string[]> {
  return await sendAll(fetch, n, () => new Request("http://gw.test/checkout/x"), 1);
}

Deno.test("a reload that leaves the split alone continues its sequence exactly", async () => {
  const ups = startNamedUpstreams("v1", "v2", "other");
  const config = splitConfig(ups.config, 95, 5);
  const logger = new MemoryLogger();
  const reloaded = await createGateway(config, { logger });
  const uninterrupted = await createGateway(config, { logger });
  try {
    const before = await sequence(reloaded.fetch, 13);
    // A real change elsewhere (a new route), so the snapshot is rebuilt.
    const result = await reloaded.reload({
      ...config,
      routes: [...config.routes, { name: "other", match: { path: "/other" }, upstream: "other" }],
    });
    assert.equal(result.changed, true);
    const after = await sequence(reloaded.fetch, 187);
    const expected = await sequence(uninterrupted.fetch, 200);
    assert.deepEqual([...before, ...after], expected);
    assert.deepEqual(tally([...before, ...after]), { v1: 190, v2: 10 });

    // The same reload restarted from scratch would repeat the period's opening picks: the
    // carried sequence must differ from a fresh one at the reload point.
    const fresh = await createGateway(config, { logger });
    try {
      assert.notDeepEqual(after.slice(0, 20), await sequence(fresh.fetch, 20));
    } finally {
      await fresh.close();
    }
  } finally {
    await reloaded.close();
    await uninterrupted.close();
    await ups.close();
  }
});

Deno.test("a reload that changes the split starts the new weights' sequence", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await createGateway(splitConfig(ups.config, 95, 5), { logger: new MemoryLogger() });
  try {
    await sequence(gw.fetch, 7);
    await gw.reload(splitConfig(ups.config, 90, 10));
    assert.deepEqual(tally(await sequence(gw.fetch, 100)), { v1: 90, v2: 10 });
  } finally {
    await gw.close();
    await ups.close();
  }
});
