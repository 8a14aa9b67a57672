/**
 * `routes` and `explain` on the showcase routes.config.ts, run through the real deno tasks (so
 * their narrow permission flags are exercised too), and the usage error for unknown commands.
 */
import assert from "node:assert/strict";
import { runDeno, runFerry } from "../helpers/process.ts";

/** Runs `deno task <name> <args>` in the repository. */
async function task(name: string, ...args: string[]) {
  const result = await runDeno(["task", name, ...args], { timeoutMs: 30_000 });
  assert.equal(result.killed, false, `deno task ${name} hung`);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Rows of the fixed-width table: cells are separated by at least two spaces. */
function tableRows(text: string): string[][] {
  const [header, ...rows] = text.trim().split("\n");
  assert.deepEqual(header.split(/\s{2,}/), [
    "#",
    "name",
    "host",
    "path",
    "methods",
    "conditions",
    "action",
  ]);
  return rows.map((row) => row.split(/\s{2,}/));
}

Deno.test("`routes` prints the compiled table in declared order", async () => {
  const rows = tableRows(await task("routes"));
  const forward = (policies?: string) =>
    `forward to upstream "demo"${policies ? ` after policies [${policies}]` : ""}`;
  assert.deepEqual(rows, [
    ["0", "user-by-id", "*", "/api/users/:id{[0-9]+}", "GET", "-", forward("stamped, rewrite")],
    ["1", "api-canary", "*", "/api/*", "*", "header x-env", forward("headers, rewrite")],
    ["2", "api", "*", "/api/*", "*", "-", forward("stamped, rewrite")],
    ["3", "legacy-users", "*", "/v1/users/:id", "*", "-", "redirect 308 to /api/users/:id"],
    ["4", "events", "*", "/events", "*", "-", forward("rewrite")],
    ["5", "websocket", "*", "/ws", "*", "-", forward()],
    ["6", "gzip", "*", "/gzip", "*", "-", forward()],
    ["7", "fallback", "*", "/*", "*", "-", forward()],
  ]);
});

Deno.test("`explain GET /api/users/7` names user-by-id with its param", async () => {
  const out = await task("explain", "GET", "/api/users/7");
  assert.match(out, /^ {2}routes\[0\] user-by-id: MATCH$/m);
  assert.match(out, /^→ routes\[0\] user-by-id with params \{"id":"7"\}: forward to upstream/m);
});

Deno.test("`explain GET /api/users/abc` shows the failed constraint and that api wins", async () => {
  const out = await task("explain", "GET", "/api/users/abc");
  const lines = out.trim().split("\n");
  const userById = lines.find((l) => l.includes("routes[0] user-by-id"));
  assert.ok(userById, out);
  // Not a match, and the reason names the path with its [0-9]+ constraint.
  assert.match(userById, /user-by-id: no — .*\/api\/users\/abc.*\{\[0-9\]\+\}/);
  assert.match(out, /routes\[1\] api-canary: no — .*x-env/);
  assert.match(out, /^ {2}routes\[2\] api: MATCH$/m);
  assert.match(lines.at(-1)!, /^→ routes\[2\] api: /);
});

Deno.test("`explain -H 'x-env: canary'` picks the canary route", async () => {
  const out = await task("explain", "GET", "/api/a", "-H", "x-env: canary");
  assert.match(out, /^ {2}routes\[1\] api-canary: MATCH$/m);
  assert.match(out.trim().split("\n").at(-1)!, /^→ routes\[1\] api-canary: /);
});

Deno.test("an unknown command exits 2 and prints the usage", async () => {
  const result = await runFerry(["--allow-read=.", "--allow-env=FERRY_CONFIG"], ["frobnicate"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "frobnicate"/);
  assert.match(result.stderr, /^usage:$/m);
  for (const command of ["start", "check", "routes", "explain"]) {
    assert.match(result.stderr, new RegExp(`^ {2}ferry ${command} `, "m"));
  }
});
