/**
 * A config with three mistakes: `check` and `start` both refuse it with a non-zero exit and name
 * every mistake by its exact path, in one run (not one error per attempt).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runFerry, type RunResult, SERVE_FLAGS, withTempDir } from "../helpers/process.ts";

// A bad target URL, a bad path pattern (unterminated character class in a constraint) and a
// route naming an upstream that does not exist. Plain data: a typed config would not compile.
const BAD_CONFIG = `export default {
  listen: { hostname: "127.0.0.1", port: 0 },
  admin: { enabled: false },
  upstreams: { api: { targets: ["localhost:3000"] } },
  routes: [
    { match: { path: "/u/:id{[0-9+}" }, upstream: "api" },
    { match: { path: "/users/*" }, upstream: "userz" },
  ],
};
`;

const EXPECTED_PATHS = ["upstreams.api.targets[0]", "routes[0].match.path", "routes[1].upstream"];

function assertAllThreeReported(result: RunResult) {
  assert.equal(result.killed, false, "the CLI hung and was killed");
  assert.notEqual(result.code, 0, `exit code was 0; stdout:\n${result.stdout}`);
  for (const path of EXPECTED_PATHS) {
    // One line per issue: "error   <path>: <message>".
    assert.match(
      result.stderr,
      new RegExp(`^error\\s+${escape(path)}: \\S`, "m"),
      `missing ${path} in stderr:\n${result.stderr}`,
    );
  }
  assert.match(result.stderr, /^3 errors, 0 warnings in /m);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("`check` exits non-zero and prints all three paths", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "bad.config.ts");
    await Deno.writeTextFile(file, BAD_CONFIG);
    const result = await runFerry(["--allow-read", "--allow-env"], ["check", "--config", file], {
      timeoutMs: 30_000,
    });
    assertAllThreeReported(result);
    assert.equal(result.code, 1);
  });
});

Deno.test("`start` refuses the same config, printing all three paths, without serving", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "bad.config.ts");
    await Deno.writeTextFile(file, BAD_CONFIG);
    const result = await runFerry(SERVE_FLAGS, ["start", "--config", file], { timeoutMs: 30_000 });
    assertAllThreeReported(result);
    assert.doesNotMatch(result.stderr, /ferry serving/);
  });
});
