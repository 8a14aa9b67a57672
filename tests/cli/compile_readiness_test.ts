/**
 * `deno task compile` needs a denort download that this machine cannot make, so it is checked by
 * what can be checked: the module graph resolves offline and holds nothing from jsr, and the
 * task embeds the default config and keeps the narrow permission flags.
 */
import assert from "node:assert/strict";
import { REPO_ROOT, runDeno } from "../helpers/process.ts";

const denoJson = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/deno.json`));
const compileTask: string = denoJson.tasks.compile;

interface InfoJson {
  roots: string[];
  modules: { specifier: string; dependencies?: { specifier: string }[]; error?: string }[];
  redirects: Record<string, string>;
}

async function info(entry: string): Promise<InfoJson> {
  const result = await runDeno(["info", "--json", entry], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

const isJsr = (s: string) => s.startsWith("jsr:") || s.startsWith("https://jsr.io");

for (const entry of ["mod.ts", "routes.config.ts"]) {
  Deno.test(`deno info ${entry} resolves with no jsr module anywhere in the graph`, async () => {
    const graph = await info(entry);
    assert.ok(graph.modules.length > 0);
    const errors = graph.modules.filter((m) => m.error).map((m) => `${m.specifier}: ${m.error}`);
    assert.deepEqual(errors, []);
    const specifiers = [
      ...graph.modules.map((m) => m.specifier),
      ...graph.modules.flatMap((m) => (m.dependencies ?? []).map((d) => d.specifier)),
      ...Object.keys(graph.redirects),
      ...Object.values(graph.redirects),
    ];
    assert.deepEqual(specifiers.filter(isJsr), []);
  });
}

Deno.test("the config is loaded dynamically, so compile must --include it", async () => {
  const graph = await info("mod.ts");
  const config = new URL("../../routes.config.ts", import.meta.url).href;
  assert.ok(
    !graph.modules.some((m) => m.specifier === config),
    "routes.config.ts is in mod.ts's static graph; --include would be redundant",
  );
  assert.match(compileTask, /(^|\s)--include[= ]routes\.config\.ts(\s|$)/);
  assert.match(compileTask, /(^|\s)--output[= ]dist\/ferry(\s|$)/);
  assert.match(compileTask, /\smod\.ts$/);
});

Deno.test("the compile task has narrow permission flags", () => {
  const words = compileTask.split(/\s+/);
  assert.ok(!words.includes("-A") && !words.includes("--allow-all"), compileTask);
  assert.ok(words.includes("--allow-net"), compileTask);
  // Like the start task: every read and env grant names what it grants.
  const unscoped = words.filter((w) => /^--allow-(read|env|write|run|ffi|sys)$/.test(w));
  assert.deepEqual(unscoped, [], `flags granting everything of their kind in: ${compileTask}`);
  assert.ok(words.some((w) => /^--allow-env=\S+/.test(w)), compileTask);
});
