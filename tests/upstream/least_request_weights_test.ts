/**
 * Least request with targets of different weights, through the real gateway and real upstreams
 * that hold every request open. Comparing raw in-flight counts equalises them, so two targets
 * with weights 9 and 1 each got half the concurrent load (and a target ramping up in slow start
 * got a full share at once): a heavier target must carry load in proportion to its weight.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** An upstream that holds every request until `release()`, announcing each arrival. */
function holdingUpstream(name: string, arrived: (name: string) => void) {
  const release = Promise.withResolvers<void>();
  const upstream = startUpstream(async () => {
    arrived(name);
    await release.promise;
    return new Response(name);
  });
  return { ...upstream, release: () => release.resolve() };
}

Deno.test("least_request: concurrent load splits by weight (9:1), not evenly", async () => {
  const counts: Record<string, number> = { heavy: 0, light: 0 };
  let next = Promise.withResolvers<void>();
  const arrived = (name: string) => {
    counts[name]++;
    next.resolve();
  };
  const heavy = holdingUpstream("heavy", arrived);
  const light = holdingUpstream("light", arrived);
  const gw = await startTestGateway({
    upstreams: {
      api: {
        targets: [{ url: heavy.url, weight: 9 }, { url: light.url, weight: 1 }],
        balancer: { type: "least_request" },
        retries: false,
      },
    },
    routes: [{ upstream: "api" }],
  });
  const responses: Promise<Response>[] = [];
  try {
    // One request at a time reaches an upstream and stays open there, so every pick sees the
    // in-flight counts of all earlier requests.
    for (let i = 0; i < 20; i++) {
      next = Promise.withResolvers<void>();
      responses.push(fetch(`${gw.url}/r${i}`));
      await within(next.promise, 5000, `request ${i} never reached an upstream`);
    }
    // In proportion to 9:1 the light target holds 2 of 20; ties are broken at random, so
    // allow one either way. An even split would give it about 10.
    assert.ok(counts.light >= 1 && counts.light <= 3, JSON.stringify(counts));
  } finally {
    heavy.release();
    light.release();
    for (const res of await Promise.all(responses)) await res.body?.cancel();
    await gw.close();
    await heavy.close();
    await light.close();
  }
});
