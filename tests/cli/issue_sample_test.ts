/**
 * The sample config from the issue, kept byte-for-byte in tests/fixtures: it must type-check,
 * pass `ferry check`, and serve. Its ports (8080, 9901) and target (127.0.0.1:3000) may be taken
 * on CI, so serving overrides the listeners to port 0 and points `api` at a real upstream
 * started here; everything else is the file's own default export.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sample from "../fixtures/issue_sample.config.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { REPO_ROOT, runDeno, runFerry } from "../helpers/process.ts";

const FIXTURE = join(REPO_ROOT, "tests/fixtures/issue_sample.config.ts");

Deno.test("the issue's sample config passes deno check", async () => {
  const result = await runDeno(["check", FIXTURE]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.killed, false);
});

Deno.test("the issue's sample config passes `ferry check`", async () => {
  const result = await runFerry(
    ["--allow-read=.", "--allow-env=FERRY_CONFIG"],
    ["check", "--config", "tests/fixtures/issue_sample.config.ts"],
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /ok — 1 routes, 1 upstreams, 0 warnings/);
});

Deno.test("the issue's sample config serves through a real upstream", async () => {
  const upstream = startEchoUpstream();
  // Only the target changes: 127.0.0.1:3000 is whatever CI has there, if anything.
  const config = { ...sample, upstreams: { api: { targets: [upstream.url] } } };
  const gw = await startTestGateway(config);
  try {
    const res = await fetch(`${gw.url}/hello/world?x=1`);
    assert.equal(res.status, 200);
    const echoed = await res.json();
    assert.equal(echoed.path, "/hello/world");
    assert.equal(echoed.query, "?x=1");
    // The route had no name, so it gets the default `route-<index>`.
    assert.equal(gw.snapshot.config.routes[0].name, "route-0");
    const health = await fetch(`${gw.adminUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await gw.close();
    await upstream.close();
  }
});
