/**
 * `gw.fetch(request)` hands policies the same connection facts `Deno.serve` does: a custom
 * policy built on Hono's `getConnInfo` (it reads `c.env.remoteAddr`, as `ipRestriction` does)
 * works in a route test exactly as it does when served, instead of failing with a 500.
 */
import assert from "node:assert/strict";
import { createGateway } from "../../mod.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const POLICY = new URL("./fixtures/client_address_policy.ts", import.meta.url).pathname;

function config(upstreamUrl: string) {
  return {
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{
      name: "all",
      upstream: "api",
      use: [{ kind: "custom", options: { module: POLICY } }],
    }],
  };
}

Deno.test("a policy reading c.env.remoteAddr sees a loopback tcp client in-process, as when served", async () => {
  const upstream = startEchoUpstream();
  const served = await startTestGateway(config(upstream.url), { admin: false });
  const gw = await createGateway(config(upstream.url), { demo: false, logger: new MemoryLogger() });
  try {
    const viaSocket = await fetch(`${served.url}/x`);
    assert.equal(viaSocket.status, 200);
    assert.equal((await viaSocket.json()).headers["x-peer"], "tcp 127.0.0.1");

    const inProcess = await gw.fetch(new Request("http://api.example.com/x"));
    assert.equal(inProcess.status, 200, await inProcess.clone().text());
    assert.equal((await inProcess.json()).headers["x-peer"], "tcp 127.0.0.1");
  } finally {
    await gw.close();
    await served.close();
    await upstream.close();
  }
});

Deno.test("a client address given to gw.fetch reaches c.env.remoteAddr and the forwarded headers", async () => {
  const upstream = startEchoUpstream();
  const gw = await createGateway(config(upstream.url), { demo: false, logger: new MemoryLogger() });
  try {
    const res = await gw.fetch(new Request("http://api.example.com/x"), {
      remoteAddr: { hostname: "203.0.113.9" },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const echoed = await res.json();
    assert.equal(echoed.headers["x-peer"], "tcp 203.0.113.9");
    assert.equal(echoed.headers["x-forwarded-for"], "203.0.113.9");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("gw.fetch passes Deno.serve's own handler info through when embedded in a server", async () => {
  const upstream = startEchoUpstream();
  const gw = await createGateway(config(upstream.url), { demo: false, logger: new MemoryLogger() });
  const outer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => gw.fetch(req, info),
  );
  try {
    const res = await fetch(`http://127.0.0.1:${outer.addr.port}/x`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).headers["x-peer"], "tcp 127.0.0.1");
  } finally {
    await outer.shutdown();
    await gw.close();
    await upstream.close();
  }
});
