/**
 * Hostile configs, generated: the golden "full" config (every section, several policy kinds)
 * with 1-3 of its values replaced, seeded, by values of the wrong type, out of range, empty,
 * huge or malformed; objects and lists replaced or emptied. Seeded, so every run checks the same
 * 400 configs and a failure names its case.
 *
 * What must hold for every one of them:
 * - validation says what is wrong at a path, never falls back to "the config could not be read"
 *   (its last resort for an exception no check foresaw);
 * - a config that validates builds and serves: a gateway starts from it, answers a request, and
 *   closes. Validation that lets through what the gateway then cannot build would take a bad
 *   config past `ferry check` and into a failed reload.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";
import { createGateway } from "../../src/server/gateway.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { seededRandom } from "../helpers/random.ts";

const FULL = JSON.parse(
  Deno.readTextFileSync(new URL("./golden/full.input.json", import.meta.url)),
);
// The golden config logs to /var/log/ferry, which need not exist here: a temporary file instead.
const LOG_DIR = Deno.makeTempDirSync({ prefix: "ferry-config-fuzz-" });
FULL.accessLog.to = { file: `${LOG_DIR}/access.log` };

/** Replacement values: wrong types, boundaries, malformed strings. */
const VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  65_536,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "",
  " ",
  "x",
  "1s",
  "0ms",
  "-5s",
  "999999h",
  "/*",
  "/a/:id{[}",
  "(",
  "*.",
  "http://",
  "ftp://x",
  "a\nb",
  "\x00",
  "é",
  "x".repeat(5000),
  [],
  [null],
  [""],
  {},
  { "": 1 },
  { kind: "nope" },
  { url: 5 },
  ["*"],
];

const CASES = 400;

/** Every path to a value in `node`, as key lists. */
function paths(node: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      paths(value, [...at, Array.isArray(node) ? Number(key) : key], out);
    }
  }
  return out;
}

/** Case `n`: the full config with 1-3 values replaced, the same every run. */
function mutated(n: number): { config: unknown; changes: string[] } {
  const random = seededRandom(0xc0f1 + n * 1_299_709);
  const config = structuredClone(FULL);
  const changes: string[] = [];
  const mutations = 1 + Math.floor(random() * 3);
  for (let m = 0; m < mutations; m++) {
    // Not the access log's destination: a valid mutation would write files where the test runs.
    const all = paths(config).filter((p) => p.length > 0 && p[0] !== "accessLog");
    const path = all[Math.floor(random() * all.length)];
    const value = structuredClone(VALUES[Math.floor(random() * VALUES.length)]);
    let parent = config as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const key = path.at(-1)!;
    if (random() < 0.15 && !Array.isArray(parent)) {
      delete parent[key];
      changes.push(`${path.join(".")} removed`);
      continue;
    }
    parent[key] = value;
    const shown = typeof value === "string" && value.length > 20
      ? `"${value.slice(0, 20)}…"`
      : JSON.stringify(value);
    changes.push(`${path.join(".")} = ${shown}`);
  }
  return { config, changes };
}

Deno.test(`config fuzz: ${CASES} mutated configs are each refused at a path, or build and serve`, async () => {
  let valid = 0;
  for (let n = 0; n < CASES; n++) {
    const { config, changes } = mutated(n);
    const what = `case ${n}: ${changes.join("; ")}`;
    const result = validateConfig(config);
    if (!result.ok) {
      for (const issue of result.errors) {
        assert.doesNotMatch(issue.message, /could not be read/, `${what}: ${issue.message}`);
        assert.ok(issue.message.length > 0, what);
      }
      continue;
    }
    valid++;
    const logger = new MemoryLogger();
    // Serves on an ephemeral loopback port whatever the config's listen says.
    const gw = await createGateway(config, { logger }).catch((e) => {
      throw new Error(`${what}: validated, but the gateway could not start: ${e}`);
    });
    try {
      const res = await gw.fetch(new Request("http://api.example.com/users/7"));
      await res.body?.cancel();
      assert.ok(res.status >= 200 && res.status <= 599, what);
    } finally {
      await gw.close();
    }
    assert.deepEqual(logger.lines.filter((l) => l.level === "error"), [], what);
  }
  await Deno.remove(LOG_DIR, { recursive: true });
  console.log({ cases: CASES, valid });
  assert.ok(
    valid > 0 && valid < CASES,
    "the mutations must produce both valid and invalid configs",
  );
});
