/**
 * An absolute-form request target (`GET http://host/ HTTP/1.1`, what clients send to a forward
 * proxy) only selects a route. The gateway never connects to the host it names: it is not an
 * open proxy. Raw requests, since `fetch` always sends origin-form.
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  rawExchange,
  RawSocket,
  startEchoUpstream,
  startRawUpstream,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";

Deno.test("an absolute-form request goes to the configured upstream, never to the named host", async () => {
  const configured = startEchoUpstream();
  // A real server at the address the request names: an open proxy would connect here.
  const victim = startUpstream(() => new Response("victim reached"));
  const gw = await startTestGateway(catchAll(configured.url));
  try {
    for (const authority of ["evil.example", new URL(victim.url).host]) {
      const res = await rawExchange(
        portOf(gw),
        `GET http://${authority}/steal?x=1 HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(res.status, 200);
      const echoed = JSON.parse(res.text());
      // Only the echo upstream answers with this shape: the request went where config says.
      assert.equal(echoed.path, "/steal");
      assert.equal(echoed.query, "?x=1");
    }
    assert.equal(configured.received.length, 2);
    assert.deepEqual(victim.received, []);
  } finally {
    await gw.close();
    await configured.close();
    await victim.close();
  }
});

/** A gateway whose only route takes host `api.local`. */
async function withHostRoute(
  fn: (send: (target: string, host: string) => ReturnType<typeof rawExchange>) => Promise<void>,
): Promise<ReturnType<typeof startEchoUpstream>> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ match: { host: "api.local" }, upstream: "api" }],
  });
  try {
    await fn((target, host) =>
      rawExchange(
        portOf(gw),
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      )
    );
  } finally {
    await gw.close();
    await upstream.close();
  }
  return upstream;
}

Deno.test("an absolute-form request for a host no route takes is a 404 problem", async () => {
  const upstream = await withHostRoute(async (send) => {
    const res = await send("http://evil.example/", "evil.example");
    assert.equal(res.status, 404);
    assert.equal(res.header("content-type"), "application/problem+json");
    assert.equal(JSON.parse(res.text()).requestId, res.header("x-request-id"));
  });
  assert.deepEqual(upstream.received, []);
});

Deno.test("the absolute-form authority wins over a Host header naming a routed host", async () => {
  // RFC 9112 §3.2.2: with an absolute-form target, Host is ignored. Routing on Host here
  // would let `Host: api.local` smuggle a request for evil.example into api.local's route.
  const upstream = await withHostRoute(async (send) => {
    const res = await send("http://evil.example/", "api.local");
    assert.equal(res.status, 404);
  });
  assert.deepEqual(upstream.received, []);
});

Deno.test("an absolute-form request for the routed host is served", async () => {
  const upstream = await withHostRoute(async (send) => {
    const res = await send("http://api.local/in?q=1", "api.local");
    assert.equal(res.status, 200);
    const echoed = JSON.parse(res.text());
    assert.equal(echoed.path, "/in");
    assert.equal(echoed.headers.host, "api.local");
  });
  assert.equal(upstream.received.length, 1);
});

/** Sends `CONNECT <victim>` and then a request meant for the tunnel, on one connection. */
async function tryTunnel(
  gatewayPort: number,
  authority: string,
): Promise<{ connectStatus: number }> {
  const socket = new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: gatewayPort }));
  try {
    await socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const head = await socket.readHead();
    const connectStatus = head === null ? 0 : Number(head.split(" ")[1]);
    const length = head?.match(/^content-length: (\d+)/im);
    if (length) await socket.readBytes(Number(length[1]));
    // If a tunnel had opened, these bytes would now flow to the victim.
    await socket.write(
      "GET /through-the-tunnel HTTP/1.1\r\nHost: victim\r\nConnection: close\r\n\r\n",
    )
      .catch(() => {});
    await socket.readToEnd();
    return { connectStatus };
  } finally {
    socket.close();
  }
}

Deno.test("CONNECT never opens a tunnel to the host it names", async () => {
  const victim = startUpstream(() => new Response("victim reached"));
  const configured = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const gw = await startTestGateway(catchAll(configured.url));
  try {
    await tryTunnel(portOf(gw), new URL(victim.url).host);
  } finally {
    await gw.close();
    await configured.close();
    await victim.close();
  }
  assert.deepEqual(victim.received, []);
});

Deno.test("CONNECT is refused by the gateway, not forwarded upstream as CONNECT /", async () => {
  // CONNECT's target is an authority (RFC 9110 §9.3.6); the gateway cannot tunnel, so a
  // forwarded "CONNECT / HTTP/1.1" is a malformed request and a 2xx for it a false promise.
  const configured = startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const gw = await startTestGateway(catchAll(configured.url));
  let connectStatus: number;
  try {
    ({ connectStatus } = await tryTunnel(portOf(gw), "internal.example:443"));
  } finally {
    await gw.close();
    await configured.close();
  }
  const connects = configured.heads.filter((h) => h.startsWith("CONNECT "));
  assert.deepEqual(connects, [], "the upstream received a CONNECT");
  assert.ok(connectStatus >= 400, `CONNECT was answered ${connectStatus}`);
});
