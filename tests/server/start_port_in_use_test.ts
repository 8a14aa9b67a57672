/**
 * A gateway that cannot listen (its port is taken) rejects, and stops what it had started
 * before that: the demo listener (started first) must not hold its port, and the core (health
 * probes, pools) is closed with it, or an embedding program would keep them running.
 */
import assert from "node:assert/strict";
import { startGateway } from "../../src/server/gateway.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { startUpstream } from "../helpers/gateway.ts";

/** A port nothing listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("startGateway on a port in use rejects and stops the listeners it had started", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const upstream = startUpstream(() => new Response("ok"));
  const demoPort = freePort();
  try {
    const config = {
      demo: { listen: { hostname: "127.0.0.1", port: demoPort } },
      upstreams: {
        api: { targets: [upstream.url], healthCheck: { path: "/healthz", interval: "50ms" } },
      },
      routes: [{ upstream: "api" }],
    };
    await assert.rejects(
      startGateway(config, {
        listen: { hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port },
        admin: false,
        logger: new MemoryLogger(),
      }),
      (error: Error) => error.name === "AddrInUse",
    );
    // The demo listener was shut down: its port can be taken again.
    Deno.listen({ hostname: "127.0.0.1", port: demoPort }).close();
  } finally {
    taken.close();
    await upstream.close();
  }
});
