/**
 * The `headers` policy adds, sets and removes headers on the forwarded request and on the
 * response, and policies run in the order `use` lists them.
 */
import assert from "node:assert/strict";
import { headers, rewrite } from "../../mod.ts";
import { startEchoUpstream, startTestGateway, startUpstream } from "../helpers/gateway.ts";

Deno.test("request rules remove, set and add headers on what the upstream receives", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [headers({
        request: {
          remove: ["x-remove"],
          set: { "x-set": "new", "x-fresh": "made" },
          add: { "x-add": "second" },
        },
      })],
    }],
  });
  try {
    const res = await fetch(`${gw.url}/`, {
      headers: { "x-remove": "gone", "x-set": "old", "x-add": "first", "x-other": "untouched" },
    });
    const seen = (await res.json()).headers;
    assert.equal(seen["x-remove"], undefined);
    assert.equal(seen["x-set"], "new");
    assert.equal(seen["x-fresh"], "made");
    assert.equal(seen["x-add"], "first, second");
    assert.equal(seen["x-other"], "untouched");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("response rules remove, set and add headers on what the client receives", async () => {
  const upstream = startUpstream(() =>
    new Response("body", {
      headers: { "x-up-remove": "1", "x-up-set": "old", "x-up-add": "one", "x-up-other": "kept" },
    })
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [headers({
        response: {
          remove: ["x-up-remove"],
          set: { "x-up-set": "new" },
          add: { "x-up-add": "two" },
        },
      })],
    }],
  });
  try {
    const res = await fetch(`${gw.url}/`);
    assert.equal(await res.text(), "body");
    assert.equal(res.headers.get("x-up-remove"), null);
    assert.equal(res.headers.get("x-up-set"), "new");
    assert.equal(res.headers.get("x-up-add"), "one, two");
    assert.equal(res.headers.get("x-up-other"), "kept");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

/** The `x-order` header the upstream sees when policies run in `use` order. */
async function orderSeen(use: string[]): Promise<string> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    policies: {
      first: headers({ request: { set: { "x-order": "first" } } }),
      second: headers({ request: { set: { "x-order": "second" } } }),
    },
    routes: [{ upstream: "api", use }],
  });
  try {
    return (await (await fetch(`${gw.url}/`)).json()).headers["x-order"];
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("policies run in declared order: the later request edit wins upstream", async () => {
  assert.equal(await orderSeen(["first", "second"]), "second");
  assert.equal(await orderSeen(["second", "first"]), "first");
});

Deno.test("response edits unwind in reverse order: the outermost policy edits last", async () => {
  // Hono-style middleware: each policy edits the response after `next()` returns, so the
  // first policy in `use` sees (and overrides) what later ones did.
  const upstream = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [
        headers({ response: { set: { "x-resp": "outer" } } }),
        headers({ response: { set: { "x-resp": "inner" } } }),
      ],
    }],
  });
  try {
    const res = await fetch(`${gw.url}/`);
    assert.equal(await res.text(), "ok");
    assert.equal(res.headers.get("x-resp"), "outer");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("rewrite policies compose in declared order", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      {
        match: { path: "/a/*" },
        upstream: "api",
        // Strip then add: /a/x → /x → /b/x.
        use: [rewrite({ stripPrefix: "/a" }), rewrite({ addPrefix: "/b" })],
      },
      {
        match: { path: "/c/*" },
        upstream: "api",
        // Add then strip the same prefix: /c/x → /d/c/x → /c/x.
        use: [rewrite({ addPrefix: "/d" }), rewrite({ stripPrefix: "/d" })],
      },
    ],
  });
  try {
    assert.equal((await (await fetch(`${gw.url}/a/x?q=1`)).json()).path, "/b/x");
    assert.equal((await (await fetch(`${gw.url}/c/x?q=1`)).json()).path, "/c/x");
  } finally {
    await gw.close();
    await upstream.close();
  }
});
