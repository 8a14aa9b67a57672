/**
 * `ferry start` that cannot start for a reason other than an invalid config (its port is taken)
 * exits 1 with one clear line, not an unhandled rejection with a stack trace.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";

Deno.test("ferry start on a port already in use exits 1 and names the cause", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir({ prefix: "ferry-start-" });
  try {
    const file = join(dir, "ferry.config.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        listen: { hostname: "127.0.0.1", port: taken.addr.port },
        admin: { enabled: false },
        upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
        routes: [{ upstream: "api" }],
      }),
    );
    let out = "", err = "";
    const code = await main(["start", "--config", file, "--no-watch"], {
      out: (t) => out += t,
      err: (t) => err += t,
    });
    assert.equal(code, 1);
    assert.equal(out, "");
    assert.match(err, /^cannot start .*ferry.config.json: AddrInUse: /);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});
