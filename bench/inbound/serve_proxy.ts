/**
 * Probe, not a product: the thinnest proxy on `Deno.serve` with Ferry's own upstream client (no
 * routing, policies, metrics or header rules). What Ferry's request path costs on top of this is
 * the gateway's own work; what this costs over `raw_listen_proxy.ts` is `Deno.serve`'s.
 * Listens on $PROXY_PORT, forwards to 127.0.0.1:$BACKEND_PORT. Run with bench/side_by_side.sh
 * (SCRIPT_A/SCRIPT_B); bench/inbound/README.md has the figures.
 */
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { backendTarget, TIMEOUTS } from "./shared.ts";

const client = new Http1Client({ maxIdlePerTarget: 256, idleTimeoutMs: 60_000 });
const target = backendTarget();

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PROXY_PORT") ?? 28090), onListen() {} },
  async (req) => {
    const path = req.url.slice(req.url.indexOf("/", 8));
    const res = await client.send(
      target,
      {
        method: req.method,
        path,
        headers: ["host", target.origin.slice(7)],
        body: null,
        bodyLength: 0,
      },
      TIMEOUTS,
    );
    const headers: [string, string][] = [];
    for (let i = 0; i < res.headers.length; i += 2) {
      const name = res.headers[i];
      if (name !== "connection" && name !== "content-length") {
        headers.push([name, res.headers[i + 1]]);
      }
    }
    return new Response(res.body, { status: res.status, headers });
  },
);
