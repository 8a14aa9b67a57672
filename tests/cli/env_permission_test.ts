/**
 * The CLI reads `$FERRY_CONFIG` only to find a config no `--config` names. Run without
 * `--allow-env` (a hand-written `deno run` line, or the narrow flags of the README minus that
 * name), `ferry check --config x` must still check x, and without `--config` the answer must be
 * one clear line, not Deno's "Uncaught NotCapable" stack trace.
 */
import assert from "node:assert/strict";
import { runFerry, withTempDir } from "../helpers/process.ts";

const CONFIG = {
  listen: { hostname: "127.0.0.1", port: 8080 },
  upstreams: { api: { targets: ["http://127.0.0.1:1"] } },
  routes: [{ name: "all", upstream: "api" }],
};

Deno.test("ferry check --config works without --allow-env", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/routes.json`;
    await Deno.writeTextFile(file, JSON.stringify(CONFIG));
    const run = await runFerry([`--allow-read=${dir}`], ["check", "--config", file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /ok — 1 routes, 1 upstreams, 0 warnings/);
    assert.doesNotMatch(run.stderr, /Uncaught|NotCapable/);
  });
});

Deno.test("without --config and without env access, ferry says how to fix it", async () => {
  await withTempDir(async (dir) => {
    const run = await runFerry([`--allow-read=${dir}`], ["check"], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.doesNotMatch(run.stderr, /Uncaught|NotCapable|at parseArgs/);
    assert.match(run.stderr, /FERRY_CONFIG/);
    assert.match(run.stderr, /--allow-env=FERRY_CONFIG/);
    assert.match(run.stderr, /--config/);
  });
});
