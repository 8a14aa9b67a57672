/**
 * The `rewrite` policy edits the path sent upstream (strip a prefix, add one, regex) and never
 * the query string, which reaches the upstream exactly as the client sent it.
 */
import assert from "node:assert/strict";
import { rewrite } from "../../mod.ts";
import type { RewriteConfig } from "../../src/config/types.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The path and query the upstream saw for `requestPath` under `options`. */
async function rewritten(options: RewriteConfig, requestPath: string): Promise<string> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use: [rewrite(options)] }],
  });
  try {
    const res = await fetch(`${gw.url}${requestPath}`);
    assert.equal(res.status, 200);
    const echoed = await res.json();
    return echoed.path + echoed.query;
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("stripPrefix removes the prefix and keeps the query", async () => {
  assert.equal(
    await rewritten({ stripPrefix: "/api" }, "/api/users/7?x=1&y=two"),
    "/users/7?x=1&y=two",
  );
});

Deno.test("stripPrefix of the whole path leaves /", async () => {
  assert.equal(await rewritten({ stripPrefix: "/api" }, "/api?x=1"), "/?x=1");
});

Deno.test("stripPrefix only strips whole segments", async () => {
  assert.equal(await rewritten({ stripPrefix: "/api" }, "/apix/users"), "/apix/users");
});

Deno.test("addPrefix puts the prefix in front and keeps the query", async () => {
  assert.equal(await rewritten({ addPrefix: "/v2" }, "/users?x=1"), "/v2/users?x=1");
});

Deno.test("stripPrefix then addPrefix in one policy", async () => {
  assert.equal(
    await rewritten({ stripPrefix: "/api", addPrefix: "/v2" }, "/api/users?page=3"),
    "/v2/users?page=3",
  );
});

Deno.test("a regex rewrite uses $n groups and keeps the query", async () => {
  assert.equal(
    await rewritten(
      { regex: { pattern: "^/old/([^/]+)/(.*)$", replacement: "/new/$2/$1" } },
      "/old/a/b/c?q=1&r=%20x",
    ),
    "/new/b/c/a?q=1&r=%20x",
  );
});

Deno.test("a regex that does not match leaves the path alone", async () => {
  assert.equal(
    await rewritten({ regex: { pattern: "^/nomatch/(.*)$", replacement: "/x/$1" } }, "/keep?k=v"),
    "/keep?k=v",
  );
});
