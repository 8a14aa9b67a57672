/**
 * Balancers seen from outside, through a gateway to two real upstreams: round-robin alternates,
 * consistent hashing keeps a key on one server, and least-request steers around a slow server.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, type TestUpstream } from "../helpers/gateway.ts";

/** Two upstreams that answer with their own name. */
function pair(): { a: TestUpstream; b: TestUpstream; names: Map<string, string> } {
  const a = startUpstream(() => new Response("a"));
  const b = startUpstream(() => new Response("b"));
  return { a, b, names: new Map([[a.url, "a"], [b.url, "b"]]) };
}

function balanced(a: TestUpstream, b: TestUpstream, balancer: Record<string, unknown>) {
  return {
    upstreams: { api: { targets: [a.url, b.url], balancer } },
    routes: [{ upstream: "api" }],
  };
}

Deno.test("round_robin alternates between the two servers", async () => {
  const { a, b } = pair();
  const gw = await startTestGateway(balanced(a, b, { type: "round_robin" }));
  try {
    const served: string[] = [];
    for (let i = 0; i < 8; i++) served.push(await (await fetch(`${gw.url}/rr`)).text());
    for (let i = 1; i < served.length; i++) {
      assert.notEqual(served[i], served[i - 1], `not alternating: ${served.join(",")}`);
    }
    assert.equal(a.received.length, 4);
    assert.equal(b.received.length, 4);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("consistent_hash on x-user sends each user to the same server every time", async () => {
  const { a, b } = pair();
  const gw = await startTestGateway(
    balanced(a, b, { type: "consistent_hash", key: { header: "x-user" } }),
  );
  try {
    const serverOf = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 32; u++) {
        const user = `user-${u}`;
        const res = await fetch(`${gw.url}/ch`, { headers: { "x-user": user } });
        const server = await res.text();
        if (round === 0) serverOf.set(user, server);
        else assert.equal(server, serverOf.get(user), `${user} moved in round ${round}`);
      }
    }
    // Hashing actually spreads users: with 32 keys on a 2-target ring, both get some (the
    // chance that one target gets none is about 2^-31).
    const used = new Set(serverOf.values());
    assert.deepEqual([...used].sort(), ["a", "b"]);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("least_request sends traffic away from a server with a request stuck in flight", async () => {
  const release = Promise.withResolvers<void>();
  let arrived = Promise.withResolvers<void>();
  const slow = startUpstream(async () => {
    arrived.resolve();
    await release.promise; // Held until teardown: this server stays busy.
    return new Response("slow");
  });
  const fast = startUpstream(() => new Response("fast"));
  const gw = await startTestGateway(balanced(slow, fast, { type: "least_request" }));
  const held: Promise<string>[] = [];
  /** Sends one request; resolves once it completed (fast) or arrived at the slow server. */
  const send = async (): Promise<"done" | "held"> => {
    const response = fetch(`${gw.url}/lr`).then((r) => r.text());
    const outcome = await Promise.race([
      response.then(() => "done" as const),
      arrived.promise.then(() => "held" as const),
    ]);
    if (outcome === "held") {
      held.push(response);
      arrived = Promise.withResolvers<void>();
    }
    return outcome;
  };
  try {
    // Idle targets tie, and ties go to a random draw: send until one lands on the slow server
    // and stays in flight there (64 misses in a row would take odds of 2^-64).
    for (let i = 0; i < 64 && held.length === 0; i++) await send();
    assert.equal(held.length, 1, "no request ever reached the slow server");
    const fastBefore = fast.received.length;
    // Power of two choices over two targets compares both: with the slow one busy, the idle
    // fast one must win every time.
    for (let i = 0; i < 10; i++) assert.equal(await send(), "done", `request ${i} went to slow`);
    assert.equal(slow.received.length, 1);
    assert.equal(fast.received.length, fastBefore + 10);
  } finally {
    release.resolve();
    for (const r of held) assert.equal(await r, "slow");
    await gw.close();
    await slow.close();
    await fast.close();
  }
});
