/**
 * A WebSocket upgrade handed to `gw.fetch` (in-process, no listener) has no client connection to
 * upgrade: it is answered 501 not-implemented as an RFC 9457 problem, after routing and the
 * route's policies as any request, without connecting to the upstream. Served, or embedded in
 * the caller's own `Deno.serve` that passes its handler info, the same upgrade is bridged.
 */
import assert from "node:assert/strict";
import { createGateway, ipFilter } from "../../mod.ts";
import { catchAll, readProblem, startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { openSocket, websocketEchoResponse, wsUrl } from "../helpers/reload.ts";

/** A WebSocket handshake as a client sends it, built by hand: `fetch` cannot send one. */
function upgradeRequest(url: string, headers: Record<string, string> = {}): Request {
  return new Request(url, {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      ...headers,
    },
  });
}

Deno.test("gw.fetch answers a WebSocket upgrade 501 without connecting to the upstream", async () => {
  const upstream = startUpstream(websocketEchoResponse);
  const gw = await createGateway(catchAll(upstream.url), { demo: false });
  try {
    const res = await gw.fetch(upgradeRequest("http://gw.test/ws"));
    assert.equal(res.status, 501);
    const body = await readProblem(res);
    assert.equal(body.type, "https://ferry.dev/problems/not-implemented");
    assert.equal(body.detail, "WebSocket upgrades need a listener: use startGateway");
    assert.equal(upstream.received.length, 0, "the upstream was connected to");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("gw.fetch runs routing, policies and the handshake checks before refusing an upgrade", async () => {
  const upstream = startUpstream(websocketEchoResponse);
  const gw = await createGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      { name: "ws", match: { path: "/ws" }, upstream: "api" },
      {
        name: "guarded",
        match: { path: "/guarded" },
        upstream: "api",
        use: [ipFilter({ deny: ["127.0.0.0/8"] })],
      },
    ],
  }, { demo: false });
  try {
    // The route's policies answer first, as served: a refused client gets the 403, not a 501.
    const refused = await gw.fetch(upgradeRequest("http://gw.test/guarded"));
    assert.equal(refused.status, 403);
    await refused.body?.cancel();
    const unrouted = await gw.fetch(upgradeRequest("http://gw.test/other"));
    assert.equal(unrouted.status, 404);
    assert.equal((await readProblem(unrouted)).type, "https://ferry.dev/problems/no-route");
    // A version the gateway does not speak gets the 426 a served gateway gives it.
    const oldVersion = await gw.fetch(
      upgradeRequest("http://gw.test/ws", { "sec-websocket-version": "8" }),
    );
    assert.equal(oldVersion.status, 426);
    await oldVersion.body?.cancel();
    assert.equal(upstream.received.length, 0);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a served gateway bridges WebSockets on its listener and refuses them on handle.fetch", async () => {
  const upstream = startUpstream(websocketEchoResponse);
  const gw = await startTestGateway(catchAll(upstream.url), { admin: false });
  try {
    const viaFetch = await gw.fetch(upgradeRequest(`${gw.url}/ws`));
    assert.equal(viaFetch.status, 501);
    await viaFetch.body?.cancel();
    assert.equal(upstream.received.length, 0);

    const socket = await openSocket(`${wsUrl(gw.url)}/ws`);
    try {
      assert.equal(await socket.roundTrip("hi"), "echo:hi");
    } finally {
      await socket.close();
    }
    assert.equal(upstream.received.length, 1);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a gateway embedded in Deno.serve with its handler info bridges WebSockets", async () => {
  const upstream = startUpstream(websocketEchoResponse);
  const gw = await createGateway(catchAll(upstream.url), { demo: false });
  const outer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => gw.fetch(req, info),
  );
  try {
    const socket = await openSocket(`ws://127.0.0.1:${outer.addr.port}/ws`);
    try {
      assert.equal(await socket.roundTrip("hi"), "echo:hi");
    } finally {
      await socket.close();
    }
    assert.equal(upstream.received.length, 1);
  } finally {
    await outer.shutdown();
    await gw.close();
    await upstream.close();
  }
});
