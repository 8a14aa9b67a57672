/**
 * The reused config loader Worker (src/config/loader_worker_pool.ts) must load exactly what a
 * fresh Worker per load would: every edit of the config and of any module it imports, however
 * deep, and nothing a failed or hung load left behind. These tests drive a pool directly, with
 * real files in a temp folder, and check both what was loaded and when a Worker was replaced.
 */
import assert from "node:assert/strict";
import type { ImportOutcome } from "../../src/config/import_module.ts";
import { ConfigLoaderPool } from "../../src/config/loader_worker_pool.ts";
import { runDeno } from "../helpers/process.ts";
import { type ConfigDir, makeConfigDir, save } from "../helpers/reload.ts";

const LOAD_TIMEOUT_MS = 30_000;

function value(outcome: ImportOutcome): unknown {
  assert.ok(outcome.ok, `the load failed: ${outcome.ok ? "" : outcome.message}`);
  return outcome.value;
}

/** Runs `body` with a pool and a temp folder, and closes both whatever happens. */
async function withPool(
  maxLoadsPerWorker: number | undefined,
  body: (pool: ConfigLoaderPool, dir: ConfigDir) => Promise<void>,
): Promise<void> {
  const pool = new ConfigLoaderPool(maxLoadsPerWorker);
  const dir = await makeConfigDir();
  try {
    await body(pool, dir);
  } finally {
    pool.close();
    await dir.remove();
  }
}

Deno.test("loader: the config is re-imported in the same Worker; an edit two imports deep replaces it", async () => {
  await withPool(undefined, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    const inner = dir.path("lib/inner.ts");
    await Deno.mkdir(dir.path("lib"));
    await save(inner, `export const inner = "inner-1";\n`);
    await save(dir.path("middle.ts"), `export { inner } from "./lib/inner.ts";\n`);
    const text = (v: number) =>
      `import { inner } from "./middle.ts";\nexport default { config: ${v}, inner };\n`;

    await save(config, text(1));
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
      config: 1,
      inner: "inner-1",
    });
    await save(config, text(2));
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
      config: 2,
      inner: "inner-1",
    });
    assert.equal(pool.workersStarted, 1, "an edit of the config alone reuses the Worker");

    await save(inner, `export const inner = "inner-2";\n`, "rename");
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
      config: 2,
      inner: "inner-2",
    });
    assert.equal(pool.workersStarted, 2, "a nested edit needs a Worker without the old module");

    // A module imported for the first time by a later version is loaded fresh too.
    await save(dir.path("extra.ts"), `export const extra = "extra-1";\n`);
    await save(
      config,
      `import { extra } from "./extra.ts";\nexport default { config: 3, extra };\n`,
    );
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
      config: 3,
      extra: "extra-1",
    });
    await save(dir.path("extra.ts"), `export const extra = "extra-2";\n`);
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
      config: 3,
      extra: "extra-2",
    });
  });
});

Deno.test("loader: after maxLoadsPerWorker loads the Worker is replaced", async () => {
  await withPool(3, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    for (let v = 1; v <= 7; v++) {
      await save(config, `export default { config: ${v} };\n`);
      assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), { config: v });
    }
    // Loads 1-3 in the first Worker, 4-6 in the second, 7 in the third.
    assert.equal(pool.workersStarted, 3);
  });
});

Deno.test("loader: retired() settles once every replaced or closed Worker has exited", async () => {
  await withPool(2, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    for (let v = 1; v <= 3; v++) {
      await save(config, `export default { config: ${v} };\n`);
      value(await pool.load(config, LOAD_TIMEOUT_MS));
    }
    pool.close();
    // Two Workers were told to stop: the first after 2 loads (it may be gone by now), the
    // second by close just above, whose thread still holds its isolate until it has exited.
    assert.equal(pool.workersStarted, 2);
    assert.ok(pool.workersStopping >= 1);
    await pool.retired();
    assert.equal(pool.workersStopping, 0);
  });
});

Deno.test("loader: a module that never finishes loading times out, and the next load works", async () => {
  await withPool(undefined, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    await save(config, `export default { config: 1 };\n`);
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), { config: 1 });

    await save(config, `await new Promise(() => {});\nexport default { config: 2 };\n`);
    const hung = await pool.load(config, 200);
    assert.deepEqual(hung, {
      ok: false,
      message: "the config module did not load within 200 ms",
    });

    await save(config, `export default { config: 3 };\n`);
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), { config: 3 });
    assert.equal(pool.workersStarted, 2, "the hung Worker was not reused");
  });
});

Deno.test("loader: a failed load replaces the Worker, so a nested module that failed is retried", async () => {
  await withPool(undefined, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    // The nested module's source never changes; what it reads at load does.
    await save(
      dir.path("flag.ts"),
      `export const flag = Deno.readTextFileSync(new URL("./flag.txt", import.meta.url));\n`,
    );
    await save(config, `import { flag } from "./flag.ts";\nexport default { flag };\n`);
    const failed = await pool.load(config, LOAD_TIMEOUT_MS);
    assert.equal(failed.ok, false);
    assert.match(failed.ok ? "" : failed.message, /flag\.txt/);

    await save(dir.path("flag.txt"), "up");
    assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), { flag: "up" });
  });
});

Deno.test("loader: a module that imports the config back sees the config's current version", async () => {
  await withPool(undefined, async (pool, dir) => {
    const config = dir.path("ferry.config.ts");
    await save(
      dir.path("peer.ts"),
      `import { version } from "./ferry.config.ts";\nexport const peer = () => version;\n`,
    );
    const text = (v: number) =>
      `import { peer } from "./peer.ts";\nexport const version = ${v};\n` +
      `export default { version, peerSees: peer() };\n`;
    for (const v of [1, 2, 3]) {
      await save(config, text(v));
      assert.deepEqual(value(await pool.load(config, LOAD_TIMEOUT_MS)), {
        version: v,
        peerSees: v,
      });
    }
  });
});

Deno.test("loader: concurrent loads of two configs both get their own module", async () => {
  await withPool(undefined, async (pool, dir) => {
    const a = dir.path("a.config.ts");
    const b = dir.path("b.config.ts");
    await save(dir.path("shared.ts"), `export const shared = "s1";\n`);
    await save(a, `import { shared } from "./shared.ts";\nexport default { name: "a", shared };\n`);
    await save(b, `import { shared } from "./shared.ts";\nexport default { name: "b", shared };\n`);
    const [ra, rb] = await Promise.all([
      pool.load(a, LOAD_TIMEOUT_MS),
      pool.load(b, LOAD_TIMEOUT_MS),
    ]);
    assert.deepEqual(value(ra), { name: "a", shared: "s1" });
    assert.deepEqual(value(rb), { name: "b", shared: "s1" });

    // Whichever Worker was kept has `shared.ts` cached: an edit of it must still be seen by both.
    await save(dir.path("shared.ts"), `export const shared = "s2";\n`);
    assert.deepEqual(value(await pool.load(a, LOAD_TIMEOUT_MS)), { name: "a", shared: "s2" });
    assert.deepEqual(value(await pool.load(b, LOAD_TIMEOUT_MS)), { name: "b", shared: "s2" });
  });
});

Deno.test("loader: an idle loader Worker does not keep the process alive", async () => {
  const dir = await makeConfigDir();
  try {
    const config = dir.path("ferry.config.ts");
    await save(config, `export default { config: "loaded" };\n`);
    const script = dir.path("load_once.ts");
    const importer = new URL("../../src/config/worker_import.ts", import.meta.url).href;
    // Loads once through the shared loader and returns; the process must then exit by itself.
    await save(
      script,
      `import { importInWorker } from "${importer}";\n` +
        `console.log(JSON.stringify(await importInWorker(${JSON.stringify(config)})));\n`,
    );
    const result = await runDeno(["run", "--allow-read", script], { timeoutMs: 30_000 });
    assert.equal(result.killed, false, "the process had to be killed: the Worker kept it alive");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { ok: true, value: { config: "loaded" } });
  } finally {
    await dir.remove();
  }
});
