/**
 * Golden files: each `<name>.input.json|yaml` in `golden/` is validated and the result must equal
 * `<name>.expected.json` (the normalized config, or every issue). The expected files are the
 * spec: this test only compares, it never writes them.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { validateConfig } from "../../src/config/validate.ts";

const dir = new URL("./golden/", import.meta.url);
const INPUT = /^(.+)\.input\.(json|yaml)$/;

const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const inputs = names.flatMap((name) => {
  const m = INPUT.exec(name);
  return m ? [{ file: name, base: m[1], format: m[2] as "json" | "yaml" }] : [];
});

Deno.test("golden: every input has an expected file and every expected file an input", () => {
  assert.ok(inputs.length >= 6, `only ${inputs.length} golden inputs`);
  const expected = names.filter((n) => n.endsWith(".expected.json")).map((n) =>
    n.slice(0, -".expected.json".length)
  );
  assert.deepEqual(expected, inputs.map((i) => i.base));
});

for (const { file, base, format } of inputs) {
  Deno.test(`golden: ${file}`, () => {
    const text = Deno.readTextFileSync(new URL(file, dir));
    const input = format === "json" ? JSON.parse(text) : parseYaml(text);
    const expected = JSON.parse(Deno.readTextFileSync(new URL(`${base}.expected.json`, dir)));
    // Compare as JSON: that is what the expected files can hold.
    const actual = JSON.parse(JSON.stringify(validateConfig(input)));
    assert.deepEqual(actual, expected);
  });
}
