/**
 * Command lines the CLI cannot act on are usage errors (exit 2, the reason and the usage on
 * stderr), caught before any config loads: never a stack trace, and never a silent run on a
 * different config or request than the one typed.
 */
import assert from "node:assert/strict";
import { main } from "../../src/cli/main.ts";

const CONFIG = new URL("../../routes.config.ts", import.meta.url).pathname;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "", err = "";
  const code = await main(argv, { out: (t) => out += t, err: (t) => err += t });
  return { code, out, err };
}

const CASES: { argv: string[]; says: RegExp }[] = [
  // Previously: a TypeError from `new Headers` escaped main() as an unhandled rejection.
  { argv: ["explain", "-c", CONFIG, "GET", "/x", "-H", "bad name: 1"], says: /not a valid header/ },
  // Previously: explained "GET /" (the target was glued to the listen address).
  { argv: ["explain", "-c", CONFIG, "GET", "users"], says: /neither a path starting with \// },
  { argv: ["explain", "-c", CONFIG, "GET", "http://[::1/x"], says: /nor an absolute URL/ },
  { argv: ["explain", "-c", CONFIG, "GE T", "/x"], says: /not an HTTP method/ },
  // Previously: checked ./routes.config.ts instead and said "ok".
  { argv: ["check", "other.config.ts"], says: /check takes no arguments.*--config/ },
  { argv: ["routes", "-c", CONFIG, "extra"], says: /routes takes no arguments/ },
  { argv: ["explain", "-c", CONFIG, "GET", "/x", "-H"], says: /^-H needs 'name: value'\n/ },
];

for (const { argv, says } of CASES) {
  Deno.test(`ferry ${argv.join(" ").replace(CONFIG, "<config>")} is a usage error`, async () => {
    const { code, out, err } = await run(argv);
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(err, says);
    assert.match(err, /usage:/);
  });
}

Deno.test("a well-formed explain still runs, with a path or an absolute URL", async () => {
  for (const target of ["/api/users/7", "http://example.test/api/users/7"]) {
    const { code, out } = await run(["explain", "-c", CONFIG, "get", target, "-H", "x-a: 1"]);
    assert.equal(code, 0);
    assert.match(out, /user-by-id/);
  }
});
