/**
 * `ferry explain GET /path` sends the path to the listen address, as a client of the gateway
 * would. An IPv6 listen address (`::1`) is written `[::1]` in a URL and a Host header; without
 * the brackets the explained request had an empty host, so a route matching host `[::1]` was
 * reported as not taking a request the gateway routes to it.
 */
import assert from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { withTempDir } from "../helpers/process.ts";

Deno.test("explain of a path uses a bracketed IPv6 listen address as the host", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/routes.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        listen: { hostname: "::1", port: 8080 },
        upstreams: { api: { targets: ["http://127.0.0.1:1"] } },
        routes: [
          { name: "local", match: { host: "[::1]", path: "/a" }, upstream: "api" },
          { name: "rest", upstream: "api" },
        ],
      }),
    );
    let out = "", err = "";
    const code = await main(["explain", "-c", file, "GET", "/a"], {
      out: (t) => out += t,
      err: (t) => err += t,
    });
    assert.equal(code, 0, err);
    assert.match(out, /^GET \[::1\]\/a$/m);
    assert.match(out, /^→ routes\[0\] local:/m);
  });
});
