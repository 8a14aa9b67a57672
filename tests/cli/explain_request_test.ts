/**
 * `ferry explain` must explain the request the gateway would get for what was typed: a Host given
 * with -H for a path target, an absolute URL with a query and no path, a path with dot segments.
 */
import assert from "node:assert/strict";
import { main } from "../../src/cli/main.ts";

const CONFIG = {
  listen: { hostname: "127.0.0.1", port: 8080 },
  upstreams: { api: { targets: ["http://127.0.0.1:1"] } },
  routes: [
    { name: "by-host", match: { host: "api.example.com", path: "/*" }, upstream: "api" },
    { name: "admin", match: { path: "/admin/*" }, upstream: "api" },
    { name: "rest", match: { path: "/*" }, upstream: "api" },
  ],
};

async function withConfig(
  body: (
    run: (...argv: string[]) => Promise<{ code: number; out: string; err: string }>,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-explain-" });
  try {
    const file = `${dir}/routes.json`;
    await Deno.writeTextFile(file, JSON.stringify(CONFIG));
    await body(async (...argv) => {
      let out = "", err = "";
      const code = await main([...argv, "-c", file], {
        out: (t) => out += t,
        err: (t) => err += t,
      });
      return { code, out, err };
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("explain routes a path by the Host given with -H, as the gateway would", async () => {
  await withConfig(async (run) => {
    const { code, out } = await run("explain", "GET", "/x", "-H", "Host: API.example.com:8080");
    assert.equal(code, 0);
    assert.match(out, /^GET api\.example\.com\/x$/m);
    assert.match(out, /^→ routes\[0\] by-host:/m);
    // An absolute URL names its own authority, as an absolute-form request target does.
    const absolute = await run(
      "explain",
      "GET",
      "http://other.test/x",
      "-H",
      "host: api.example.com",
    );
    assert.equal(absolute.code, 0);
    assert.match(absolute.out, /^→ routes\[2\] rest:/m);
  });
});

Deno.test("a -H Host that is not a host[:port] is a usage error", async () => {
  await withConfig(async (run) => {
    for (
      const extra of [
        ["-H", "Host: a b"],
        ["-H", "Host: a/b"],
        ["-H", "Host: user@a"],
        ["-H", "Host: a:99999"],
        ["-H", "Host: a", "-H", "Host: b"],
      ]
    ) {
      const { code, out, err } = await run("explain", "GET", "/x", ...extra);
      assert.equal(code, 2, extra.join(" "));
      assert.equal(out, "");
      assert.match(err, /is not a host\[:port\]/);
      assert.match(err, /usage:/);
    }
  });
});

Deno.test("explain reads a URL with a query and no path, and resolves dot segments", async () => {
  await withConfig(async (run) => {
    const query = await run("explain", "GET", "http://api.example.com?debug=1");
    assert.equal(query.code, 0);
    assert.match(query.out, /^GET api\.example\.com\/\?debug=1$/m);
    assert.match(query.out, /^→ routes\[0\] by-host:/m);
    const dots = await run("explain", "GET", "/public/%2e%2e/admin/x");
    assert.equal(dots.code, 0);
    assert.match(dots.out, /^GET 127\.0\.0\.1\/admin\/x$/m);
    assert.match(dots.out, /^→ routes\[1\] admin:/m);
  });
});
