/**
 * The route-level `mirror` setting: defaults, normalization, and one precise error per bad
 * value, including a dangling shadow upstream with a suggestion, both at load time and (for
 * typed configs) in `deno check`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ConfigIssue, NormalizedConfig } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

function config(mirror: unknown, route: Record<string, unknown> = { upstream: "api" }) {
  return {
    upstreams: {
      api: { targets: ["http://127.0.0.1:3000"] },
      shadow: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{ ...route, mirror }],
  };
}

function valid(input: unknown): NormalizedConfig {
  const result = validateConfig(input);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${JSON.stringify(result.errors)}`);
  return result.config;
}

function errorsOf(input: unknown): [string, string][] {
  const result = validateConfig(input);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return (result.ok ? [] : result.errors).map((e: ConfigIssue) => [e.path, e.message]);
}

Deno.test("mirror config: defaults are 100%, 64 in flight, 64 KiB bodies, no diff", () => {
  assert.deepEqual(valid(config({ upstream: "shadow" })).routes[0].mirror, {
    upstream: "shadow",
    percent: 100,
    maxConcurrent: 64,
    maxBodyBytes: 65_536,
    diff: null,
  });
});

Deno.test("mirror config: a route without mirror has no mirror key (normalized output unchanged)", () => {
  const routes = valid({
    upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
    routes: [{ upstream: "api" }],
  }).routes;
  assert.equal("mirror" in routes[0], false);
});

Deno.test("mirror config: diff defaults to content-type; header names are lower-cased", () => {
  const m = valid(config({
    upstream: "shadow",
    percent: 12.5,
    maxConcurrent: 4,
    maxBodyBytes: 0,
    diff: {},
  })).routes[0].mirror!;
  assert.deepEqual(m, {
    upstream: "shadow",
    percent: 12.5,
    maxConcurrent: 4,
    maxBodyBytes: 0,
    diff: { headers: ["content-type"], ignoreHeaders: [], ignoreJsonFields: [] },
  });
  const d = valid(config({
    upstream: "shadow",
    diff: {
      headers: ["*", "X-Version", "x-version"],
      ignoreHeaders: ["Server"],
      ignoreJsonFields: ["timestamp", "meta.requestId"],
    },
  })).routes[0].mirror!.diff;
  assert.deepEqual(d, {
    headers: ["*", "x-version"],
    ignoreHeaders: ["server"],
    ignoreJsonFields: ["timestamp", "meta.requestId"],
  });
});

Deno.test("mirror config: a dangling shadow upstream is named, with a suggestion", () => {
  assert.deepEqual(errorsOf(config({ upstream: "shadwo" })), [[
    "routes[0].mirror.upstream",
    'no upstream named "shadwo" (upstreams: "api", "shadow"); did you mean "shadow"?',
  ]]);
});

Deno.test("mirror config: a redirect route cannot mirror", () => {
  assert.deepEqual(errorsOf(config({ upstream: "shadow" }, { redirect: { to: "/new" } })), [[
    "routes[0].mirror",
    'a redirect route forwards nothing to mirror: remove "mirror", or mirror on a route with ' +
    '"upstream"',
  ]]);
});

Deno.test("mirror config: bad values each get one precise error", () => {
  const cases: [unknown, string, string][] = [
    [{}, "routes[0].mirror.upstream", "missing: expected the name of the shadow upstream"],
    [
      "shadow",
      "routes[0].mirror",
      'expected mirror settings like { upstream: "shadow" }, got "shadow"',
    ],
    [
      { upstream: "shadow", percent: 150 },
      "routes[0].mirror.percent",
      "expected a percentage from 0 to 100, got 150",
    ],
    [
      { upstream: "shadow", maxConcurrent: 0 },
      "routes[0].mirror.maxConcurrent",
      "expected a whole number ≥ 1, got 0",
    ],
    [
      { upstream: "shadow", maxBodyBytes: -1 },
      "routes[0].mirror.maxBodyBytes",
      "expected a whole number ≥ 0, got -1",
    ],
    [
      { upstream: "shadow", maxConcurent: 4 },
      "routes[0].mirror.maxConcurent",
      'unknown key "maxConcurent"; did you mean "maxConcurrent"?',
    ],
    [
      { upstream: "shadow", diff: { header: ["a"] } },
      "routes[0].mirror.diff.header",
      'unknown key "header"; did you mean "headers"?',
    ],
    [
      { upstream: "shadow", diff: { headers: ["bad name"] } },
      "routes[0].mirror.diff.headers[0]",
      'expected a header name like "x-user-id", got "bad name"',
    ],
    [
      { upstream: "shadow", diff: { ignoreJsonFields: ["meta..id"] } },
      "routes[0].mirror.diff.ignoreJsonFields[0]",
      'expected a dotted JSON field path like "timestamp" or "meta.requestId", got "meta..id"',
    ],
  ];
  for (const [mirror, path, message] of cases) {
    assert.deepEqual(errorsOf(config(mirror)), [[path, message]], JSON.stringify(mirror));
  }
});

// ------------------------------------------------------------------------------- typing

const defineUrl = new URL("../../src/config/define.ts", import.meta.url).href;

/** Runs `deno check` on a config module calling defineConfig with `body`. */
async function denoCheck(body: string): Promise<{ success: boolean; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-mirror-typecheck-" });
  try {
    const file = join(dir, "routes.config.ts");
    await Deno.writeTextFile(
      file,
      `import { defineConfig } from "${defineUrl}";\nexport default defineConfig(${body});\n`,
    );
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", file],
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

Deno.test("mirror config: deno check rejects a mirror naming a missing upstream, and names it", async () => {
  const { success, output } = await denoCheck(`{
    upstreams: {
      api: { targets: ["http://127.0.0.1:3000"] },
      shadow: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{ upstream: "api", mirror: { upstream: "shadwo" } }],
  }`);
  assert.equal(success, false, output);
  assert.match(output, /TS\d+ \[ERROR\]: .*"shadwo"/);
});

Deno.test("mirror config: deno check accepts a mirror with every setting", async () => {
  const { success, output } = await denoCheck(`{
    upstreams: {
      api: { targets: ["http://127.0.0.1:3000"] },
      shadow: { targets: ["http://127.0.0.1:3001"] },
    },
    routes: [{
      upstream: "api",
      mirror: {
        upstream: "shadow",
        percent: 10,
        maxConcurrent: 8,
        maxBodyBytes: 1024,
        diff: { headers: ["*"], ignoreHeaders: ["date"], ignoreJsonFields: ["meta.requestId"] },
      },
    }],
  }`);
  assert.equal(success, true, output);
});
