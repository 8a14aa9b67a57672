/**
 * SIGTERM on a real `ferry start` while a client has sent a request's headers but never the rest
 * of its body. Deno's graceful shutdown waits for such a request forever, so every listener the
 * gateway owns (proxy, admin, demo) must be bounded, or the process never exits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, startUpstream } from "../helpers/gateway.ts";
import { DenoProcess, MOD_TS, SERVE_FLAGS, SERVING_LINE, withTempDir } from "../helpers/process.ts";

/** Drain timeout plus the grace the gateway allows itself, plus process start-up. */
const EXIT_BOUND_MS = 15_000;

type Listener = "proxy" | "admin" | "demo";

/**
 * Headers promising 100 bytes of body, then 3 of them: the request can never complete.
 * `Expect: 100-continue` makes the server say when a handler starts reading the body.
 */
function stalledPost(path: string): Uint8Array {
  return new TextEncoder().encode(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\nabc`,
  );
}

async function exitsWithStalledBodyOn(listener: Listener) {
  // The upstream answers without reading the body, so the proxy request reaches the upstream.
  const upstream = startUpstream(() => new Response("upstream"));
  try {
    await withTempDir(async (dir) => {
      const ports = { proxy: freePort(), admin: freePort(), demo: freePort() };
      const file = join(dir, "ferry.config.json");
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          listen: { hostname: "127.0.0.1", port: ports.proxy },
          admin: { hostname: "127.0.0.1", port: ports.admin },
          demo: { listen: { hostname: "127.0.0.1", port: ports.demo } },
          upstreams: { api: { targets: [upstream.url] } },
          routes: [{ name: "all", upstream: "api" }],
          limits: { drainTimeout: "1s" },
        }),
      );
      const proc = new DenoProcess(["run", ...SERVE_FLAGS, MOD_TS, "start", "--config", file]);
      let conn: Deno.TcpConn | undefined;
      try {
        await proc.waitForStderr(SERVING_LINE);
        conn = await Deno.connect({ hostname: "127.0.0.1", port: ports[listener] });
        await conn.write(stalledPost(listener === "admin" ? "/reload" : "/echo"));
        // The first bytes back (a response, or "100 Continue" once the demo's echo starts
        // reading the body) prove a handler holds the request before the signal is sent.
        const n = await conn.read(new Uint8Array(64));
        assert.ok(n && n > 0, "the listener answered the stalled request's headers");

        proc.signal("SIGTERM");
        const exit = await proc.waitForExit(EXIT_BOUND_MS);
        assert.equal(exit.killed, false, `hung on a stalled ${listener} request:\n${proc.stderr}`);
        assert.equal(exit.code, 0, proc.stderr);
        assert.match(proc.stderr, /"message":"ferry stopped"/);
      } finally {
        conn?.close();
        await proc.dispose();
      }
    });
  } finally {
    await upstream.close();
  }
}

for (const listener of ["proxy", "admin", "demo"] as const) {
  Deno.test(`SIGTERM exits 0 while a ${listener} request's body never arrives`, async () => {
    await exitsWithStalledBodyOn(listener);
  });
}
