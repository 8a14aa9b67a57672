/**
 * `createGateway` from mod.ts, the way users test their own routes: the full request path
 * in-process (no listener), `explain`, and a ConfigError listing every issue for a bad config.
 */
import assert from "node:assert/strict";
import { ConfigError, createGateway, startGateway } from "../../mod.ts";
import { startEchoUpstream } from "../helpers/gateway.ts";

const BAD = {
  upstreams: { api: { targets: ["localhost:3000"] } },
  routes: [
    { match: { path: "/u/:id{[0-9+}" }, upstream: "api" },
    { upstream: "userz" },
  ],
};

Deno.test("gw.fetch proxies a Request to a real upstream without sockets of its own", async () => {
  const upstream = startEchoUpstream();
  const gw = await createGateway({
    upstreams: { users: { targets: [upstream.url] } },
    routes: [{ name: "user", match: { path: "/users/:id{[0-9]+}" }, upstream: "users" }],
  }, { demo: false });
  try {
    const res = await gw.fetch(
      new Request("http://api.example.com/users/7?full=1", {
        method: "POST",
        headers: { "x-request-id": "req-create-gateway-1", "content-type": "text/plain" },
        body: "hello",
      }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), "req-create-gateway-1");
    const echoed = await res.json();
    assert.equal(echoed.method, "POST");
    assert.equal(echoed.path, "/users/7");
    assert.equal(echoed.query, "?full=1");
    assert.equal(echoed.body, "hello");
    assert.equal(echoed.headers["x-request-id"], "req-create-gateway-1");
    assert.equal(upstream.received.length, 1);

    const miss = await gw.fetch(new Request("http://api.example.com/users/abc"));
    assert.equal(miss.status, 404);
    assert.match(miss.headers.get("content-type") ?? "", /^application\/problem\+json/);
    await miss.body?.cancel();
    assert.equal(upstream.received.length, 1, "a 404 never reaches the upstream");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("gw.explain returns the winner and the reasons earlier routes lost", async () => {
  const gw = await createGateway({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [
      { name: "user", match: { path: "/users/:id{[0-9]+}", method: "GET" }, upstream: "api" },
      { name: "rest", upstream: "api" },
    ],
  }, { demo: false });
  try {
    const hit = gw.explain("get", "http://x.test/users/42");
    assert.equal(hit.winner?.name, "user");
    assert.deepEqual(hit.winner?.params, { id: "42" });

    const fallthrough = gw.explain("DELETE", "http://x.test/users/42");
    assert.equal(fallthrough.winner?.name, "rest");
    assert.equal(fallthrough.verdicts[0].matched, false);
    assert.match(fallthrough.verdicts[0].reasons.join(" "), /DELETE/);
  } finally {
    await gw.close();
  }
});

Deno.test("an invalid config is a ConfigError listing every issue path", async () => {
  const error = await (async () => {
    try {
      await createGateway(BAD, { demo: false });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ConfigError, String(error));
  assert.deepEqual(
    error.issues.map((i) => i.path).sort(),
    ["routes[0].match.path", "routes[1].upstream", "upstreams.api.targets[0]"],
  );
  assert.ok(error.issues.every((i) => i.severity === "error" && i.message.length > 0));
  for (const issue of error.issues) assert.ok(error.message.includes(issue.path), error.message);
});

// createGateway and startGateway return promises, so callers write `.catch()` or
// `assert.rejects(() => createGateway(bad))`; a synchronous throw escapes both.
for (
  const [name, build] of [["createGateway", createGateway], ["startGateway", startGateway]] as const
) {
  Deno.test(`${name} reports an invalid config as a rejected promise, not a synchronous throw`, async () => {
    let promise: Promise<unknown> | undefined;
    try {
      promise = build(BAD, { demo: false, admin: false, listen: { port: 0 } });
    } catch (e) {
      assert.fail(`${name} threw synchronously: ${e instanceof Error ? e.name : e}`);
    }
    await assert.rejects(promise, ConfigError);
  });
}
