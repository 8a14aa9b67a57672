/**
 * Balancers seen from outside, through a gateway to two real upstreams: round-robin alternates,
 * consistent hashing keeps a key on one server, and least-request steers around a slow server.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, type TestUpstream } from "../helpers/gateway.ts";
import { pollUntil } from "../helpers/process.ts";

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

/** Each target's `inflight`, as admin `/upstreams` shows it. */
async function inflightOf(adminUrl: string): Promise<Record<string, number>> {
  const upstreams = await (await fetch(`${adminUrl}/upstreams`)).json();
  const out: Record<string, number> = {};
  for (const t of upstreams[0].targets) out[t.url] = t.inflight;
  return out;
}

Deno.test("least_request counts a streamed response as in flight until its body ends", async () => {
  const encoder = new TextEncoder();
  const streaming = (name: string) =>
    startUpstream((req) => {
      if (new URL(req.url).pathname !== "/events") return new Response(name);
      // An event stream that stays open: its head and first event arrive, the end never does.
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(encoder.encode("data: hello\n\n")),
      });
      return new Response(body, {
        headers: { "content-type": "text/event-stream", "x-server": name },
      });
    });
  const a = streaming("a");
  const b = streaming("b");
  const names = new Map([["a", a.url], ["b", b.url]]);
  const gw = await startTestGateway(balanced(a, b, { type: "least_request" }));
  try {
    const res = await fetch(`${gw.url}/events`);
    const busy = res.headers.get("x-server")!;
    const reader = res.body!.getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /data: hello/);
    assert.equal((await inflightOf(gw.adminUrl!))[names.get(busy)!], 1);
    // The stream's target is busy for as long as the stream is open: every short request goes
    // to the other one (with the stream not counted, ties would split them at random).
    for (let i = 0; i < 10; i++) {
      const served = await (await fetch(`${gw.url}/short`)).text();
      assert.notEqual(served, busy, `request ${i} went to the target holding the stream`);
    }
    // Once the client ends the stream, the target is free again.
    await reader.cancel();
    await pollUntil("stream released", async () => {
      const inflight = await inflightOf(gw.adminUrl!);
      return Object.values(inflight).every((n) => n === 0);
    });
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
});

Deno.test("least_request counts an open WebSocket as in flight until it closes", async () => {
  const upgrading = (name: string) =>
    startUpstream((req) => {
      if (req.headers.get("upgrade") !== "websocket") return new Response(name);
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => socket.send(name);
      return response;
    });
  const a = upgrading("a");
  const b = upgrading("b");
  const gw = await startTestGateway(balanced(a, b, { type: "least_request" }));
  const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws`);
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  try {
    const busy = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onerror = () => reject(new Error("websocket failed"));
    });
    for (let i = 0; i < 10; i++) {
      const served = await (await fetch(`${gw.url}/short`)).text();
      assert.notEqual(served, busy, `request ${i} went to the target holding the WebSocket`);
    }
    ws.close();
    await closed;
    await pollUntil("websocket released", async () => {
      const inflight = await inflightOf(gw.adminUrl!);
      return Object.values(inflight).every((n) => n === 0);
    });
  } finally {
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    await closed;
    await gw.close();
    await a.close();
    await b.close();
  }
});
