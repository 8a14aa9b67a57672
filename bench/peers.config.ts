/**
 * The config `../shared/bench/peers.sh` runs Ferry with: one catch-all route to the harness's
 * backend, defaults as shipped (request ids, metrics on; access log off). Ports come from the
 * harness's environment.
 *
 *   GATEWAY_CMD="deno run --allow-net --allow-read=. --allow-env mod.ts start --config bench/peers.config.ts"
 */
import { defineConfig } from "../mod.ts";

const backend = Deno.env.get("BACKEND_PORT") ?? "28100";
const port = Number(Deno.env.get("PROXY_PORT") ?? "28090");

export default defineConfig({
  listen: { hostname: "127.0.0.1", port },
  admin: { hostname: "127.0.0.1", port: port + 1 },
  upstreams: { backend: { targets: [`http://127.0.0.1:${backend}`] } },
  routes: [{ name: "all", upstream: "backend" }],
  accessLog: {
    to: Deno.env.get("FERRY_ACCESS_LOG") ? { file: Deno.env.get("FERRY_ACCESS_LOG")! } : "off",
  },
});
