/**
 * The stdout destination: a batch far larger than a pipe holds, multi-byte text included,
 * reaches the reader whole and in order.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("a batch of 4 MB, multi-byte text included, reaches stdout whole and in order", async () => {
  // The child logs 3000 lines of ~1.4 KB to stdout and closes the log: one batch of ~4 MB.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      fileURLToPath(new URL("./access_log_stdout_child.ts", import.meta.url)),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [output, errors] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  assert.equal(errors, "");
  const lines = output.trimEnd().split("\n");
  assert.equal(lines.length, 3000);
  const agent = "a".repeat(700) + "é🚀\u2028".repeat(100);
  lines.forEach((line, i) => {
    const parsed = JSON.parse(line);
    assert.equal(parsed.requestId, `r${i}`);
    assert.equal(parsed.userAgent, agent);
  });
});
