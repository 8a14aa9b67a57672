/**
 * Custom policies: a user module whose default export is a Hono-style middleware factory.
 * Real modules on disk, a real gateway and a real upstream.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_error.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { createGateway, serveFile } from "../../src/server/gateway.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-custom-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const TENANT_MODULE = `
export default (options) => async (c, next) => {
  if (c.req.header("x-block") === "yes") {
    return c.json({ title: "blocked by tenant policy" }, 403);
  }
  c.var.proxy.requestHeaders ??= new Headers(c.req.raw.headers);
  c.var.proxy.requestHeaders.set("x-tenant", options.tenant);
  await next();
  c.res.headers.set("x-tenant-policy", "ran");
};
`;

Deno.test("a custom policy edits the request, the response, and can answer by itself", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/tenant.ts`, TENANT_MODULE);
    const upstream = startEchoUpstream();
    const gw = await createGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "all",
        upstream: "api",
        use: [{
          kind: "custom",
          options: { module: `${dir}/tenant.ts`, options: { tenant: "acme" } },
        }],
      }],
    }, { logger: new MemoryLogger() });
    try {
      const ok = await gw.fetch(new Request("http://gw.test/x"));
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("x-tenant-policy"), "ran");
      assert.equal((await ok.json()).headers["x-tenant"], "acme");

      const before = upstream.received.length;
      const blocked = await gw.fetch(
        new Request("http://gw.test/x", { headers: { "x-block": "yes" } }),
      );
      assert.equal(blocked.status, 403);
      assert.equal((await blocked.json()).title, "blocked by tenant policy");
      assert.equal(upstream.received.length, before, "a policy that answers stops the request");
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

Deno.test("a custom module without a factory is a config error naming the policy path", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.ts`, "export default 42;\n");
    await Deno.writeTextFile(
      `${dir}/missing_dep.ts`,
      'import "./nope.ts";\nexport default () => 1;\n',
    );
    for (
      const [file, expected] of [["bad.ts", /must export a default function/], [
        "missing_dep.ts",
        /failed to load/,
      ]] as const
    ) {
      const error = await createGateway({
        upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
        policies: { t: { kind: "custom", options: { module: `${dir}/${file}` } } },
        routes: [{ upstream: "api", use: ["t"] }],
      }, { logger: new MemoryLogger() }).then(() => undefined, (e) => e);
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.issues[0].path, "policies.t.options.module");
      assert.match(error.issues[0].message, expected);
    }
  });
});

Deno.test("a custom module is re-imported only when its file changes", async () => {
  await withDir(async (dir) => {
    const counter = `ferryCustomLoads_${crypto.randomUUID().replaceAll("-", "")}`;
    const module = (tag: string) => `
globalThis.${counter} = (globalThis.${counter} ?? 0) + 1;
export default () => async (c, next) => { await next(); c.res.headers.set("x-tag", "${tag}"); };
`;
    await Deno.writeTextFile(`${dir}/tag.ts`, module("one"));
    const upstream = startEchoUpstream();
    await Deno.writeTextFile(
      `${dir}/ferry.config.ts`,
      `import { defineConfig, custom } from "${MOD}";
export default defineConfig({
  upstreams: { api: { targets: ["${upstream.url}"] } },
  routes: [{ name: "all", upstream: "api", use: [custom({ module: "./tag.ts" })] }],
});
`,
    );
    const gw = await serveFile(`${dir}/ferry.config.ts`, {
      watch: false,
      listen: { hostname: "127.0.0.1", port: 0 },
      admin: false,
      logger: new MemoryLogger(),
    });
    const loads = () => (globalThis as Record<string, unknown>)[counter];
    const tag = async () => {
      const res = await fetch(`${gw.url}/x`);
      await res.body?.cancel();
      return res.headers.get("x-tag");
    };
    try {
      assert.equal(await tag(), "one");
      assert.equal(loads(), 1);
      assert.deepEqual(await gw.reloadFile!(), { result: "unchanged" });
      assert.equal(loads(), 1, "an unchanged module is not imported again");

      await Deno.writeTextFile(`${dir}/tag.ts`, module("two"));
      const outcome = await gw.reloadFile!();
      assert.equal(outcome.result, "success", "a changed module alone is a reload");
      assert.equal(loads(), 2);
      assert.equal(await tag(), "two");
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});

Deno.test("a custom policy that sets a control character in a response header fails that request with 500, and the gateway lives on", async () => {
  // Deno's HTTP/1.1 writer panics on such a value (the process ends), so this needs a real
  // listener: an in-process gw.fetch would never write the head.
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/echo_header.ts`,
      `export default () => async (c, next) => {
        await next();
        c.res.headers.set("x-echo", c.req.query("v") ?? "none");
      };`,
    );
    const upstream = startEchoUpstream();
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "all",
        upstream: "api",
        use: [{ kind: "custom", options: { module: `${dir}/echo_header.ts` } }],
      }],
    }, { admin: false });
    try {
      const bad = await fetch(`${gw.url}/x?v=${encodeURIComponent("a\x7fb")}`);
      assert.equal(bad.status, 500);
      assert.equal((await bad.json()).type, "https://ferry.dev/problems/internal-error");
      const logged = gw.logger.lines.find((l) => l.level === "error");
      assert.match(String(logged?.fields?.error), /echo_header\.ts.*"x-echo"/);
      const good = await fetch(`${gw.url}/x?v=fine`);
      assert.equal(good.status, 200);
      assert.equal(good.headers.get("x-echo"), "fine");
      await good.body?.cancel();
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
