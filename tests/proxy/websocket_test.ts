/**
 * WebSockets pass through the gateway: the upstream's chosen subprotocol reaches the client,
 * text and binary frames flow both ways, close codes and reasons cross in both directions, and
 * an unreachable upstream is a 502 problem.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  freePort,
  portOf,
  rawExchange,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";

/** Hands out a socket's messages in order, as promises. */
function inbox(ws: WebSocket): () => Promise<string | ArrayBuffer> {
  const queued: (string | ArrayBuffer)[] = [];
  const waiting: ((m: string | ArrayBuffer) => void)[] = [];
  ws.addEventListener("message", (e) => {
    const w = waiting.shift();
    if (w) w(e.data);
    else queued.push(e.data);
  });
  return () =>
    queued.length > 0
      ? Promise.resolve(queued.shift()!)
      : new Promise((resolve) => waiting.push(resolve));
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }), { once: true })
  );
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("WebSocket failed to open")), {
      once: true,
    });
  });
}

/**
 * An upstream WebSocket echo. It picks subprotocol "b" when offered, greets first, says
 * "last words" and closes with 4001 "bye" when asked to, and reports how it was closed.
 */
function startWebSocketUpstream() {
  const upstreamClosed = Promise.withResolvers<{ code: number; reason: string }>();
  const upstream = startUpstream((req) => {
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) =>
      p.trim()
    );
    const { socket, response } = Deno.upgradeWebSocket(req, {
      protocol: offered.includes("b") ? "b" : undefined,
    });
    socket.binaryType = "arraybuffer";
    socket.onopen = () => socket.send("hello from upstream");
    socket.onmessage = (e) => {
      if (e.data === "close-me") {
        socket.send("last words"); // Must reach the client before the close does.
        socket.close(4001, "bye");
      } else if (typeof e.data === "string") socket.send(`echo:${e.data}`);
      else socket.send(new Uint8Array([...new Uint8Array(e.data), 0xff]));
    };
    socket.onclose = (e) => upstreamClosed.resolve({ code: e.code, reason: e.reason });
    return response;
  });
  return { upstream, upstreamClosed: upstreamClosed.promise };
}

Deno.test("subprotocol, text and binary frames pass both ways; upstream close code reaches client", async () => {
  const { upstream, upstreamClosed } = startWebSocketUpstream();
  const gw = await startTestGateway(catchAll(upstream.url));
  const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws`, ["a", "b"]);
  ws.binaryType = "arraybuffer";
  const next = inbox(ws);
  const clientClosed = closed(ws);
  try {
    await opened(ws);
    assert.equal(ws.protocol, "b");
    // Sent by the upstream as soon as it opened, possibly before the client side was open.
    assert.equal(await next(), "hello from upstream");

    ws.send("ping");
    assert.equal(await next(), "echo:ping");

    ws.send(new Uint8Array([1, 2, 3]));
    const binary = await next();
    assert.ok(binary instanceof ArrayBuffer, "a binary frame came back as text");
    assert.deepEqual([...new Uint8Array(binary)], [1, 2, 3, 0xff]);

    ws.send("close-me");
    assert.equal(await next(), "last words");
    assert.deepEqual(await clientClosed, { code: 4001, reason: "bye" });
    assert.equal((await upstreamClosed).code, 4001);
  } finally {
    if (ws.readyState <= WebSocket.OPEN) ws.close();
    await clientClosed;
    await upstreamClosed;
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a client close code and reason reach the upstream", async () => {
  const { upstream, upstreamClosed } = startWebSocketUpstream();
  const gw = await startTestGateway(catchAll(upstream.url));
  const ws = new WebSocket(`${gw.url.replace("http", "ws")}/ws`);
  const next = inbox(ws);
  const clientClosed = closed(ws);
  try {
    await opened(ws);
    assert.equal(ws.protocol, "", "no subprotocol was offered, none may be chosen");
    assert.equal(await next(), "hello from upstream");
    ws.close(4002, "client done");
    assert.deepEqual(await upstreamClosed, { code: 4002, reason: "client done" });
    assert.equal((await clientClosed).code, 4002);
  } finally {
    if (ws.readyState <= WebSocket.OPEN) ws.close();
    await clientClosed;
    await upstreamClosed;
    await gw.close();
    await upstream.close();
  }
});

const UPGRADE =
  "GET /ws HTTP/1.1\r\nHost: api.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

Deno.test("a WebSocket to an unreachable upstream is a 502 problem", async () => {
  const gw = await startTestGateway(catchAll(`http://127.0.0.1:${freePort()}`));
  try {
    const res = await rawExchange(portOf(gw), UPGRADE);
    assert.equal(res.status, 502);
    assert.equal(res.header("content-type"), "application/problem+json");
    const body = JSON.parse(res.text());
    assert.equal(body.status, 502);
    assert.equal(body.requestId, res.header("x-request-id"));
  } finally {
    await gw.close();
  }
});

Deno.test("a WebSocket the upstream refuses to upgrade is a 502 problem", async () => {
  const upstream = startUpstream(() => new Response("no sockets here", { status: 403 }));
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(portOf(gw), UPGRADE);
    assert.equal(res.status, 502);
    assert.equal(res.header("content-type"), "application/problem+json");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

/** Headers the upstream got on a WebSocket upgrade sent through the gateway with `headers`. */
async function upgradeHeadersSeen(headers: Record<string, string>): Promise<{
  seen: Headers;
  gatewayHost: string;
}> {
  const seen = Promise.withResolvers<Headers>();
  const upstream = startUpstream((req) => {
    seen.resolve(new Headers(req.headers)); // A copy: the request object closes.
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.close(1000, "seen");
    return response;
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  // Deno's WebSocket takes extra handshake headers in a second-argument object.
  const ws = new WebSocket(
    `${gw.url.replace("http", "ws")}/ws`,
    { headers } as unknown as string[],
  );
  const clientClosed = closed(ws);
  try {
    await clientClosed;
    return { seen: await seen.promise, gatewayHost: new URL(gw.url).host };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a WebSocket upgrade carries the client's headers, X-Forwarded-* and the request id", async () => {
  const { seen, gatewayHost } = await upgradeHeadersSeen({
    authorization: "Bearer token-1",
    cookie: "session=abc",
    "x-request-id": "ws-trace-1",
  });
  assert.equal(seen.get("authorization"), "Bearer token-1");
  assert.equal(seen.get("cookie"), "session=abc");
  assert.equal(seen.get("x-request-id"), "ws-trace-1");
  assert.equal(seen.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(seen.get("x-forwarded-host"), gatewayHost);
});

Deno.test("a WebSocket upgrade keeps the client's User-Agent as sent", async () => {
  // A raw upgrade, so the client's User-Agent is exactly one known value.
  const seen = Promise.withResolvers<Headers>();
  const upstream = startUpstream((req) => {
    seen.resolve(new Headers(req.headers));
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.close(1000, "seen");
    return response;
  });
  const gw = await startTestGateway(catchAll(upstream.url));
  try {
    const res = await rawExchange(
      portOf(gw),
      UPGRADE.replace("\r\n\r\n", "\r\nUser-Agent: test-client/1.0\r\n\r\n"),
    );
    assert.equal(res.status, 101);
    assert.equal((await seen.promise).get("user-agent"), "test-client/1.0");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a WebSocket upgrade preserves the client's Host by default, like HTTP", async () => {
  const { seen, gatewayHost } = await upgradeHeadersSeen({});
  assert.equal(seen.get("host"), gatewayHost);
});
