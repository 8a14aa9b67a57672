import assert from "node:assert/strict";
import { join } from "node:path";
import { FILE_PATH, loadConfigFile, type LoadResult } from "../../src/config/load.ts";

const defineUrl = new URL("../../src/config/define.ts", import.meta.url).href;

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-load-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function loadText(dir: string, name: string, text: string): Promise<LoadResult> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  return loadConfigFile(path);
}

/** A failed load with exactly one file-level error whose message matches `pattern`. */
function assertFileError(result: LoadResult, pattern: RegExp) {
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.errors.length, 1, JSON.stringify(result.errors));
  assert.equal(result.errors[0].path, FILE_PATH);
  assert.equal(result.errors[0].severity, "error");
  assert.match(result.errors[0].message, pattern);
}

const TS_CONFIG = `import { defineConfig } from "${defineUrl}";
export default defineConfig({
  upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
  routes: [{ match: { path: "/api/*" }, upstream: "api" }],
});
`;

const YAML_CONFIG = `# same config as TS_CONFIG
routes:
  - upstream: api
    match: { path: /api/* }
upstreams:
  api:
    targets: [http://127.0.0.1:3000]
`;

Deno.test("a TypeScript config is imported and its default export validated", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(dir, "routes.config.ts", TS_CONFIG);
    if (!result.ok) assert.fail(JSON.stringify(result.errors));
    assert.equal(result.source, join(dir, "routes.config.ts"));
    assert.equal(result.config.routes[0].upstream, "api");
    assert.equal(result.config.listen.port, 8080);
    assert.match(result.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(result.warnings, []);
  });
});

Deno.test("YAML and JSON configs load into the same model, with the same hash", async () => {
  await inTempDir(async (dir) => {
    const ts = await loadText(dir, "a.ts", TS_CONFIG);
    const yaml = await loadText(dir, "b.yaml", YAML_CONFIG);
    const yml = await loadText(dir, "c.yml", YAML_CONFIG);
    const json = await loadText(
      dir,
      "d.json",
      JSON.stringify({
        upstreams: { api: { targets: ["http://127.0.0.1:3000/"] } },
        routes: [{ upstream: "api", match: { path: "/api/*" } }],
      }),
    );
    for (const result of [ts, yaml, yml, json]) assert.ok(result.ok, JSON.stringify(result));
    if (!ts.ok || !yaml.ok || !yml.ok || !json.ok) return;
    assert.deepEqual(yaml.config, ts.config);
    assert.deepEqual(json.config, ts.config);
    assert.equal(yaml.hash, ts.hash);
    assert.equal(yml.hash, ts.hash);
    assert.equal(json.hash, ts.hash);
  });
});

Deno.test("a different config has a different hash", async () => {
  await inTempDir(async (dir) => {
    const a = await loadText(dir, "a.yaml", YAML_CONFIG);
    const b = await loadText(dir, "b.yaml", YAML_CONFIG.replace(":3000", ":3001"));
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.hash, b.hash);
  });
});

Deno.test("validation errors and warnings of a loaded file come back with their paths", async () => {
  await inTempDir(async (dir) => {
    const bad = await loadText(
      dir,
      "bad.yaml",
      YAML_CONFIG.replace("upstream: api", "upstream: apj"),
    );
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.deepEqual(bad.errors.map((e) => e.path), ["routes[0].upstream"]);
      assert.match(bad.errors[0].message, /did you mean "api"\?/);
    }
    const warned = await loadText(
      dir,
      "warned.json",
      JSON.stringify({
        upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
        routes: [{ upstream: "api" }, { upstream: "api", match: { path: "/x" } }],
      }),
    );
    assert.ok(warned.ok);
    assert.deepEqual(warned.warnings.map((w) => w.path), ["routes[1]"]);
  });
});

Deno.test("a missing file is an error, not a crash", async () => {
  await inTempDir(async (dir) => {
    assertFileError(await loadConfigFile(join(dir, "nope.ts")), /file not found/);
    assertFileError(await loadConfigFile(join(dir, "nope.yaml")), /file not found/);
  });
});

Deno.test("a directory or an unsupported extension is an error", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "conf.ts"));
    assertFileError(await loadConfigFile(join(dir, "conf.ts")), /not a file/);
    assertFileError(await loadText(dir, "routes.toml", "x = 1"), /expected a \.ts, .*\.json file/);
  });
});

Deno.test("a TypeScript syntax error names the file, line and column", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(dir, "broken.ts", "export default {\n  upstreams: ,\n};\n");
    assertFileError(result, /^syntax error in the config module: .+ \(at .*broken\.ts:2:\d+\)$/);
  });
});

Deno.test("a module that throws while evaluating is reported with its message", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(dir, "throws.ts", 'throw new Error("no config today");\n');
    assertFileError(result, /failed while loading: no config today \(at .*throws\.ts:1:\d+\)/);
  });
});

Deno.test("a missing import names the module that cannot be found", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(
      dir,
      "imports.ts",
      'import { upstreams } from "./shared.ts";\nexport default { upstreams, routes: [] };\n',
    );
    assertFileError(result, /cannot be found: .*shared\.ts.*imports\.ts:1:\d+/);
  });
});

Deno.test("a module without a default export says how to add one", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(dir, "named.ts", "export const config = {};\n");
    assertFileError(result, /no default export: add `export default defineConfig/);
  });
});

Deno.test("a YAML syntax error gives the line and column", async () => {
  await inTempDir(async (dir) => {
    const result = await loadText(
      dir,
      "broken.yaml",
      "upstreams:\n  api:\n    targets: [http://127.0.0.1:3000\nroutes: []\n",
    );
    assertFileError(result, /^YAML syntax error at line \d+, column \d+: \S/);
    const duplicate = await loadText(dir, "dup.yaml", "routes: []\nupstreams: {}\nroutes: []\n");
    assertFileError(duplicate, /^YAML syntax error at line 3, column 1: .*unique/);
  });
});

Deno.test("a JSON syntax error and an empty YAML file are reported", async () => {
  await inTempDir(async (dir) => {
    assertFileError(await loadText(dir, "broken.json", '{"routes": [}'), /^JSON syntax error: /);
    const empty = await loadText(dir, "empty.yaml", "");
    assert.equal(empty.ok, false);
    if (!empty.ok) {
      assert.deepEqual(empty.errors, [
        { path: "", message: "expected a config object, got null", severity: "error" },
      ]);
    }
  });
});
