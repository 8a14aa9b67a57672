/**
 * Config modules whose default export is not plain data, loaded both ways the gateway loads them:
 * in this isolate (`ferry check`) and in the loader Worker (start-up and hot reload), whose answer
 * must be structured-cloned back. Each must get an error naming where the bad value is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FILE_PATH, loadConfigFile, type LoadResult } from "../../src/config/load.ts";
import { importInWorker } from "../../src/config/worker_import.ts";

const UPSTREAMS = `upstreams: { api: { targets: ["http://127.0.0.1:3000"] } }`;

const LOADERS = {
  isolate: (path: string) => loadConfigFile(path),
  worker: (path: string) => loadConfigFile(path, (absolute) => importInWorker(absolute)),
};

/** Loads `source` as a config module both ways; `check` gets each result and the loader's name. */
async function loadBothWays(
  source: string,
  check: (result: LoadResult, loader: string) => void,
  extraFiles: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-config-module-" });
  try {
    for (const [name, text] of Object.entries(extraFiles)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    const path = join(dir, "routes.config.ts");
    await Deno.writeTextFile(path, source);
    for (const [loader, load] of Object.entries(LOADERS)) check(await load(path), loader);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function onlyError(result: LoadResult, loader: string): { path: string; message: string } {
  assert.equal(result.ok, false, `${loader}: the config should have been refused`);
  if (result.ok) throw new Error("unreachable");
  assert.equal(result.errors.length, 1, `${loader}: ${JSON.stringify(result.errors)}`);
  return result.errors[0];
}

/**
 * The error names `path`: as its own path (validation) or, when the loader can only report on
 * the file (the Worker's answer could not be cloned), in its message.
 */
function assertNamesPath(error: { path: string; message: string }, path: string, loader: string) {
  const where = error.path === FILE_PATH ? error.message : error.path;
  assert.ok(where.includes(path), `${loader}: ${JSON.stringify(error)}`);
}

const POLICY_MODULE = "export default () => async (_c: unknown, next: () => Promise<void>) => " +
  "{ await next(); };\n";

Deno.test("a function inside custom policy options is named by its path, both ways", async () => {
  await loadBothWays(
    `const options = { tenant: "acme", lookup: function lookupTenant() { return "SOURCE-TEXT"; } };
export default {
  ${UPSTREAMS},
  routes: [{ upstream: "api", use: [{ kind: "custom", options: { module: "./p.ts", options } }] }],
};
`,
    (result, loader) => {
      const error = onlyError(result, loader);
      assertNamesPath(error, "routes[0].use[0].options.options.lookup", loader);
      assert.match(error.message, /(is|got) a function/, loader);
      // The function's source is no part of an error message.
      assert.doesNotMatch(error.message, /SOURCE-TEXT/, loader);
    },
    { "p.ts": POLICY_MODULE },
  );
});

Deno.test("a function where a value belongs is named by its path in the Worker too", async () => {
  await loadBothWays(
    `export default { ${UPSTREAMS}, routes: [{ upstream: () => "api" }] };\n`,
    (result, loader) => {
      const error = onlyError(result, loader);
      assertNamesPath(error, "routes[0].upstream", loader);
      assert.match(error.message, /(is|got) a function/, loader);
    },
  );
});

Deno.test("a getter that throws is named by its path, both ways", async () => {
  await loadBothWays(
    `const route = { get upstream(): string { throw new Error("no upstream today"); } };
export default { ${UPSTREAMS}, routes: [route] };
`,
    (result, loader) => {
      const error = onlyError(result, loader);
      assertNamesPath(error, "routes[0].upstream", loader);
      assert.match(error.message, /no upstream today/, loader);
    },
  );
});

Deno.test("a Promise as the default export asks for top-level await, both ways", async () => {
  await loadBothWays(
    `export default Promise.resolve({ ${UPSTREAMS}, routes: [{ upstream: "api" }] });\n`,
    (result, loader) => {
      const error = onlyError(result, loader);
      assert.equal(error.path, FILE_PATH, loader);
      assert.match(error.message, /default export is a Promise/, loader);
      assert.match(error.message, /export default await/, loader);
    },
  );
});

Deno.test("a function as the default export is refused without printing its source", async () => {
  await loadBothWays(
    `export default () => ({ ${UPSTREAMS}, routes: [{ upstream: "api", name: "SOURCE-TEXT" }] });\n`,
    (result, loader) => {
      const error = onlyError(result, loader);
      assert.equal(error.path, FILE_PATH, loader);
      assert.match(error.message, /default export is a function/, loader);
      assert.doesNotMatch(error.message, /SOURCE-TEXT/, loader);
    },
  );
});
