/**
 * The typing promise of `defineConfig`: a route naming an upstream or policy that does not exist
 * fails `deno check`, before anything runs. Checked with the real `deno check` on real files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const defineUrl = new URL("../../src/config/define.ts", import.meta.url).href;

function configModule(body: string): string {
  return `import { defineConfig } from "${defineUrl}";\nexport default defineConfig(${body});\n`;
}

/** Runs `deno check` on `source` written to a temporary file; returns its exit and output. */
async function denoCheck(source: string): Promise<{ success: boolean; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-typecheck-" });
  try {
    const file = join(dir, "routes.config.ts");
    await Deno.writeTextFile(file, source);
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", file],
      // The temp dir has no deno.json, so the check sees only the config and define.ts.
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { success, output: decode(stdout) + decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno check rejects a route naming a missing upstream, and names it", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: { users: { targets: ["http://127.0.0.1:3000"] } },
    routes: [{ match: { path: "/users/*" }, upstream: "userz" }],
  }`));
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*"userz"/);
});

Deno.test("deno check rejects a route using a missing policy, and names it", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: { users: { targets: ["http://127.0.0.1:3000"] } },
    policies: { auth: { kind: "headers", options: {} } },
    routes: [{ upstream: "users", use: ["atuh"] }],
  }`));
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*"atuh"/);
});

Deno.test("deno check accepts a config whose references all exist", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: {
      users: { targets: ["http://127.0.0.1:3000"], timeouts: { connect: "2s" } },
      orders: { targets: [{ url: "http://127.0.0.1:3001", weight: 2 }] },
    },
    policies: { auth: { kind: "headers", options: {} } },
    routes: [
      { match: { path: "/users/*" }, upstream: "users", use: ["auth"] },
      { match: { path: "/orders/*" }, upstream: "orders", use: [{ kind: "rewrite", options: {} }] },
      { match: { path: "/old/*" }, redirect: { to: "/new{path}" } },
    ],
  }`));
  assert.equal(success, true, output);
});

Deno.test("deno check rejects a split target naming a missing upstream, and names it", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: {
      v1: { targets: ["http://127.0.0.1:3000"] },
      v2: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{ split: { targets: [{ upstream: "v1", weight: 95 }, { upstream: "v3", weight: 5 }] } }],
  }`));
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*"v3"/);
});

Deno.test("deno check rejects a canary rule naming a missing upstream, and names it", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: {
      v1: { targets: ["http://127.0.0.1:3000"] },
      v2: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{
      upstream: "v1",
      canary: [{ when: { header: { "x-env": "canary" } }, upstream: "canry" }],
    }],
  }`));
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*"canry"/);
});

Deno.test("deno check rejects a canary condition that is not one of the kinds", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: { v1: { targets: ["http://127.0.0.1:3000"] } },
    routes: [{ upstream: "v1", canary: [{ when: { jwt: { tier: "beta" } }, upstream: "v1" }] }],
  }`));
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*jwt/);
});

Deno.test("deno check accepts splits, sticky keys, canary rules and a color header", async () => {
  const { success, output } = await denoCheck(configModule(`{
    upstreams: {
      v1: { targets: ["http://127.0.0.1:3000"] },
      v2: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{
      name: "checkout",
      match: { path: "/checkout/*" },
      canary: [
        { when: { header: { "x-env": "canary" } }, upstream: "v2", color: "canary" },
        { when: { header: { "x-build": { regex: "^rc-" } } }, upstream: "v2" },
        { when: { cookie: { beta: "1" } }, upstream: "v2" },
        { when: { query: { preview: { equals: "yes" } } }, upstream: "v2" },
        { when: { claim: { tier: "beta" } }, upstream: "v2" },
      ],
      split: {
        targets: [{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }],
        sticky: { claim: "sub" },
      },
      color: { header: "x-color" },
    }, {
      split: { targets: [{ upstream: "v1", weight: 1 }], sticky: { clientIp: true } },
    }],
  }`));
  assert.equal(success, true, output);
});
