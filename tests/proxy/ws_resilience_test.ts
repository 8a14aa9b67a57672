/**
 * WebSocket upgrades go through the upstream's resilience like any other request: an open
 * circuit answers them 503 with Retry-After, a failed upgrade (refused, 5xx, no answer) counts
 * as a failure for the circuit breaker and outlier detection, and a 101 counts as a success
 * that gives a half-open probe permit back exactly once.
 */
import assert from "node:assert/strict";
import {
  freePort,
  portOf,
  rawExchange,
  startTestGateway,
  startUpstream,
  within,
} from "../helpers/gateway.ts";

const UPGRADE = "GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n" +
  "sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

function circuitConfig(targets: string[], extra: Record<string, unknown> = {}) {
  return {
    upstreams: {
      api: {
        targets,
        circuitBreaker: { minRequests: 2, failurePercent: 50, openFor: "60s", halfOpenProbes: 1 },
        outlierDetection: false,
        retries: false,
        ...extra,
      },
    },
    routes: [{ upstream: "api" }],
  };
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

/** Upstream: `/fail` is a 500, `/ws` upgrades (or answers `wsStatus` when set), else 200. */
function startMixedUpstream(wsStatus?: number) {
  const closed = Promise.withResolvers<void>();
  const upstream = startUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/fail") return new Response("down", { status: 500 });
    if (path === "/ws") {
      if (wsStatus !== undefined) return new Response("no", { status: wsStatus });
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(`echo:${e.data}`);
      socket.onclose = () => closed.resolve();
      return response;
    }
    return new Response("ok");
  });
  return { upstream, closed: closed.promise };
}

Deno.test("ws resilience: an open circuit answers the upgrade 503 circuit-open with Retry-After", async () => {
  const { upstream } = startMixedUpstream();
  const gw = await startTestGateway(circuitConfig([upstream.url]));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(gw.snapshot.upstreams.get("api")!.resilience.circuit!.state, "open");
    const before = upstream.received.length;
    const res = await rawExchange(portOf(gw), UPGRADE);
    assert.equal(res.status, 503, res.text());
    assert.equal(JSON.parse(res.text()).type.endsWith("circuit-open"), true, res.text());
    assert.ok(Number(res.header("retry-after")) >= 1, "Retry-After is missing");
    assert.equal(upstream.received.length, before, "the upgrade reached a failing upstream");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("ws resilience: upgrades the upstream answers 5xx count as failures and open the circuit", async () => {
  const { upstream } = startMixedUpstream(503);
  const gw = await startTestGateway(circuitConfig([upstream.url]));
  try {
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal(gw.snapshot.upstreams.get("api")!.resilience.circuit!.state, "open");
    assert.equal(await status(`${gw.url}/ok`), 503, "plain requests fail fast too");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("ws resilience: refused upgrades (nothing listening) count as failures", async () => {
  const gw = await startTestGateway(circuitConfig([`http://127.0.0.1:${freePort()}`]));
  try {
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal(gw.snapshot.upstreams.get("api")!.resilience.circuit!.state, "open");
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 503);
  } finally {
    await gw.close();
  }
});

Deno.test("ws resilience: an upgrade that is never answered counts as a failure", async () => {
  // Accepts the connection and reads nothing: the upgrade times out.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const gw = await startTestGateway(circuitConfig([url], { timeouts: { connect: "100ms" } }));
  try {
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 502);
    assert.equal(gw.snapshot.upstreams.get("api")!.resilience.circuit!.state, "open");
  } finally {
    await gw.close();
    listener.close();
    await accepting;
    for (const conn of held) conn.close();
  }
});

Deno.test("ws resilience: a 101 in half-open is the probe's success and closes the circuit", async () => {
  const { upstream, closed } = startMixedUpstream();
  const gw = await startTestGateway(circuitConfig([upstream.url]));
  try {
    assert.equal(await status(`${gw.url}/fail`), 500);
    assert.equal(await status(`${gw.url}/fail`), 500);
    const circuit = gw.snapshot.upstreams.get("api")!.resilience.circuit!;
    assert.equal(circuit.state, "open");
    circuit.openUntil = 0; // the open time is over: the upgrade is the one probe

    const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws`);
    const reply = new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(e.data);
      ws.onerror = () => reject(new Error("the WebSocket failed"));
    });
    const clientClosed = new Promise<void>((resolve) =>
      ws.addEventListener("close", () => resolve())
    );
    ws.onopen = () => ws.send("hi");
    try {
      assert.equal(await within(reply, 5000, "echo"), "echo:hi");
      assert.equal(circuit.state, "closed", "the successful upgrade was not counted");
      // The permit was given back once: plain requests flow.
      assert.equal(await status(`${gw.url}/ok`), 200);
      assert.equal(await status(`${gw.url}/ok`), 200);
    } finally {
      ws.close();
      await clientClosed;
      await within(closed, 5000, "upstream close");
    }
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("ws resilience: failed upgrades eject the target (outlier detection); WebSockets go to the other", async () => {
  const bad = startMixedUpstream(502);
  const good = startMixedUpstream();
  const gw = await startTestGateway(
    circuitConfig([bad.upstream.url, good.upstream.url], {
      circuitBreaker: false,
      outlierDetection: { consecutiveFailures: 2, baseEjectionTime: "60s", slowStart: "0s" },
    }),
  );
  try {
    const target = gw.snapshot.upstreams.get("api")!.targets.find((t) =>
      t.url.startsWith(bad.upstream.url)
    )!;
    // Round robin: of four upgrades, two reach the bad target.
    for (let i = 0; i < 4 && !target.ejected; i++) {
      const res = await rawExchange(portOf(gw), UPGRADE);
      assert.ok(res.status === 502 || res.status === 101, `status ${res.status}`);
    }
    assert.equal(target.ejected, true, "two failed upgrades in a row did not eject the target");
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 101);
    assert.equal((await rawExchange(portOf(gw), UPGRADE)).status, 101);
  } finally {
    await gw.close();
    await bad.upstream.close();
    await good.upstream.close();
  }
});
