/**
 * Canary rules read headers "as the route's policies left them" (README), so a `headers` policy
 * that sets or removes the header a rule routes on decides the canary. `explain` runs no
 * policies, and so named the other upstream than the one the gateway really sends to. The live
 * answer (real upstreams, the full request path) and explain's must agree.
 */
import assert from "node:assert/strict";
import { apiKey, createGateway, headers } from "../../mod.ts";
import { hashApiKey } from "../../src/identity/secret_hash.ts";
import { startUpstream } from "../helpers/gateway.ts";

Deno.test("explain applies the route's headers policy before its canary rules", async () => {
  const v1 = startUpstream(() => new Response("v1"));
  const v2 = startUpstream(() => new Response("v2"));
  const gw = await createGateway({
    upstreams: { v1: { targets: [v1.url] }, v2: { targets: [v2.url] } },
    routes: [
      {
        name: "forced",
        match: { path: "/forced" },
        use: [headers({ request: { set: { "X-Env": "canary" } } })],
        canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2" }],
        upstream: "v1",
      },
      {
        name: "stripped",
        match: { path: "/stripped" },
        use: [headers({ request: { remove: ["x-env"] } })],
        canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2" }],
        upstream: "v1",
      },
      {
        name: "appended",
        match: { path: "/appended" },
        use: [headers({ request: { add: { "x-env": "beta" } } })],
        canary: [{ when: { header: { "x-env": "beta" } }, upstream: "v2" }],
        upstream: "v1",
      },
    ],
  }, { demo: false });
  try {
    const cases: [path: string, sent: Record<string, string>][] = [
      ["/forced", {}],
      ["/stripped", { "x-env": "canary" }],
      ["/appended", {}],
      ["/appended", { "x-env": "alpha" }],
    ];
    for (const [path, sent] of cases) {
      const res = await gw.fetch(new Request(`http://gw.test${path}`, { headers: sent }));
      const live = await res.text();
      const said = gw.explain("GET", `http://gw.test${path}`, sent).winner?.traffic?.upstream;
      assert.equal(said, live, `${path} ${JSON.stringify(sent)}`);
    }
  } finally {
    await gw.close();
    await v1.close();
    await v2.close();
  }
});

Deno.test("a canary on a header an apiKey policy writes is not decided from the client's", async () => {
  const v1 = startUpstream(() => new Response("v1"));
  const v2 = startUpstream(() => new Response("v2"));
  const gw = await createGateway({
    upstreams: { v1: { targets: [v1.url] }, v2: { targets: [v2.url] } },
    routes: [{
      name: "by-consumer",
      match: { path: "/c" },
      use: [
        apiKey({
          keys: [
            { name: "mobile", hash: hashApiKey("mobile-key-0123456789") },
            { name: "batch", hash: hashApiKey("batch-key-0123456789") },
          ],
          consumerHeader: "x-consumer",
        }),
      ],
      canary: [{ when: { header: { "x-consumer": "mobile" } }, upstream: "v2" }],
      upstream: "v1",
    }],
  }, { demo: false });
  try {
    // The batch key's request claims to be "mobile": the policy overwrites the header, so the
    // gateway sends it to v1, while the client's header alone says v2.
    const sent = { "x-api-key": "batch-key-0123456789", "x-consumer": "mobile" };
    const res = await gw.fetch(new Request("http://gw.test/c", { headers: sent }));
    assert.equal(await res.text(), "v1");
    const traffic = gw.explain("GET", "http://gw.test/c", sent).winner?.traffic;
    assert.equal(traffic?.upstream, undefined, "explain cannot know the consumer");
    assert.equal(traffic?.canaries[0].outcome, "unknown");
    assert.match(traffic?.canaries[0].reason ?? "", /apiKey/);
    assert.match(traffic?.decision ?? "", /default upstream "v1"/);
  } finally {
    await gw.close();
    await v1.close();
    await v2.close();
  }
});
