/**
 * `ferry <command> --help` prints the usage and exits 0, like `ferry --help`: it was refused as
 * "unknown option --help" with exit 2, on stderr.
 */
import assert from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { USAGE } from "../../src/cli/args.ts";

for (const argv of [["check", "--help"], ["explain", "GET", "/", "-h"], ["start", "--help"]]) {
  Deno.test(`ferry ${argv.join(" ")} prints the usage and exits 0`, async () => {
    let out = "", err = "";
    const code = await main(argv, { out: (t) => out += t, err: (t) => err += t });
    assert.equal(code, 0, err);
    assert.equal(out, USAGE);
    assert.equal(err, "");
  });
}
