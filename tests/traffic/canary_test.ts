/**
 * Canary rules through a real gateway over real HTTP: header (equals and regex), cookie, query
 * and claim conditions send requests to the configured upstream, the first matching rule wins,
 * rules run before the split, and a rule's color reaches the upstream in the route's color
 * header, which the gateway owns (a client-sent value is replaced or removed).
 *
 * Claims come from a `custom` policy fixture that copies `x-test-claims` onto `state.claims`,
 * exactly where the jwt policy leaves verified claims.
 */
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.ts";
import { sendAll, startNamedUpstreams, tally } from "./upstreams.ts";

const fakeClaims = new URL("../fixtures/policies/fake_claims.ts", import.meta.url).pathname;

function canaryConfig(upstreams: Record<string, unknown>) {
  return {
    upstreams,
    policies: { claims: { kind: "custom", options: { module: fakeClaims } } },
    routes: [{
      name: "checkout",
      match: { path: "/checkout/*" },
      use: ["claims"],
      canary: [
        { when: { header: { "X-Env": "canary" } }, upstream: "v2", color: "canary" },
        { when: { header: { "x-build": { regex: "^rc-[0-9]+$" } } }, upstream: "v3" },
        { when: { cookie: { beta: "1" } }, upstream: "v2", color: "beta-cookie" },
        { when: { query: { preview: { equals: "yes" } } }, upstream: "v3", color: "preview" },
        { when: { claim: { tier: "beta" } }, upstream: "v2", color: "beta" },
      ],
      upstream: "v1",
      color: { header: "X-Color" },
    }, {
      name: "split",
      match: { path: "/split/*" },
      canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2" }],
      split: { targets: [{ upstream: "v1", weight: 95 }, { upstream: "v3", weight: 5 }] },
    }],
  };
}

Deno.test("canary rules route by header, regex, cookie, query and claim, and set the color upstream", async () => {
  const ups = startNamedUpstreams("v1", "v2", "v3");
  const gw = await startTestGateway(canaryConfig(ups.config), { admin: false });
  /** Sends one request; returns the upstream that answered and the color header it received. */
  const send = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, { headers });
    const upstream = await res.text();
    assert.equal(res.status, 200, upstream);
    const received = ups.byName[upstream].received.at(-1)!;
    return { upstream, color: received.headers.get("x-color") };
  };
  const claims = (value: unknown) => ({ "x-test-claims": JSON.stringify(value) });
  try {
    const cases: [string, Record<string, string>, string, string | null][] = [
      // [path, headers, upstream, color upstream]
      ["/checkout/a", {}, "v1", null],
      ["/checkout/a", { "x-env": "canary" }, "v2", "canary"],
      ["/checkout/a", { "x-env": "prod" }, "v1", null],
      ["/checkout/a", { "x-build": "rc-12" }, "v3", null],
      ["/checkout/a", { "x-build": "rc-x" }, "v1", null],
      ["/checkout/a", { cookie: "theme=dark; beta=1" }, "v2", "beta-cookie"],
      ["/checkout/a", { cookie: "beta=0" }, "v1", null],
      ["/checkout/a?preview=yes", {}, "v3", "preview"],
      ["/checkout/a?preview=no", {}, "v1", null],
      ["/checkout/a", claims({ sub: "alice", tier: "beta" }), "v2", "beta"],
      ["/checkout/a", claims({ sub: "bob", tier: "gold" }), "v1", null],
      ["/checkout/a", claims({ tier: ["staff", "beta"] }), "v2", "beta"],
      // First match wins: the header rule comes before the claim rule.
      ["/checkout/a", { "x-env": "canary", ...claims({ tier: "beta" }) }, "v2", "canary"],
      // The gateway owns the color header: a client's value is replaced, or removed.
      ["/checkout/a", { "x-env": "canary", "x-color": "blue" }, "v2", "canary"],
      ["/checkout/a", { "x-color": "blue" }, "v1", null],
      ["/checkout/a", { "x-build": "rc-1", "x-color": "blue" }, "v3", null],
    ];
    for (const [path, headers, upstream, color] of cases) {
      const got = await send(path, headers);
      assert.deepEqual(got, { upstream, color }, `${path} ${JSON.stringify(headers)}`);
    }
  } finally {
    await gw.close();
    await ups.close();
  }
});

Deno.test("canary rules run before the split, which keeps its exact share of the rest", async () => {
  const ups = startNamedUpstreams("v1", "v2", "v3");
  const gw = await startTestGateway(canaryConfig(ups.config), { admin: false });
  try {
    const answers = await sendAll(
      (req) => fetch(req),
      300,
      (i) =>
        new Request(`${gw.url}/split/${i}`, { headers: i % 3 === 0 ? { "x-env": "canary" } : {} }),
      1,
    );
    const canary = answers.filter((_, i) => i % 3 === 0);
    const rest = answers.filter((_, i) => i % 3 !== 0);
    assert.deepEqual(tally(canary), { v2: 100 });
    assert.deepEqual(tally(rest), { v1: 190, v3: 10 });
  } finally {
    await gw.close();
    await ups.close();
  }
});
