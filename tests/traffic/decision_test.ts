/**
 * The per-route decision on its own: which part chose (rule labels), the upstream recorded on
 * the request state, the color header edit, and that policy-edited headers and verified claims
 * are what the rules read.
 */
import assert from "node:assert/strict";
import type { NormalizedRoute } from "../../src/config/normalized.ts";
import type { ProxyState } from "../../src/proxy/state.ts";
import { TrafficDecision } from "../../src/traffic/decision.ts";
import { TrafficRegistry } from "../../src/traffic/registry.ts";

function route(extra: Partial<NormalizedRoute>): NormalizedRoute {
  return {
    index: 0,
    name: "checkout",
    match: { hosts: [], path: "/*", methods: [], headers: {}, query: {} },
    use: [],
    retryNonIdempotent: false,
    ...extra,
  };
}

/** The parts of the request state a decision reads and writes. */
function state(extra: Partial<ProxyState> = {}): ProxyState {
  return { clientIp: "10.0.0.1", ...extra } as ProxyState;
}

const CHECKOUT = route({
  canary: [
    { when: { header: { "x-env": "canary" } }, upstream: "v2", color: "canary" },
    { when: { claim: { tier: "beta" } }, upstream: "v2", color: null },
  ],
  split: {
    targets: [{ upstream: "v1", weight: 3 }, { upstream: "v2", weight: 1 }],
    sticky: { header: "x-user-id" },
  },
  color: { header: "x-color" },
});

Deno.test("each choice names the rule that made it and is recorded on the state", () => {
  const decision = new TrafficDecision(
    CHECKOUT,
    new TrafficRegistry(),
    (name) => `runtime:${name}`,
  );
  const choose = (headers: HeadersInit, s = state()) => {
    const choice = decision.choose(new Request("http://gw.test/", { headers }), s);
    assert.equal(s.upstream, choice.upstream);
    return [choice.rule, choice.upstream, choice.runtime];
  };
  assert.deepEqual(choose({ "x-env": "canary" }), ["canary[0]", "v2", "runtime:v2"]);
  assert.deepEqual(choose({}, state({ claims: { tier: "beta" } })), [
    "canary[1]",
    "v2",
    "runtime:v2",
  ]);
  assert.equal(choose({ "x-user-id": "u1" })[0], "split/sticky");
  assert.deepEqual(
    Array.from({ length: 4 }, () => choose({}).slice(0, 2)),
    [
      ["split/round-robin", "v1"],
      ["split/round-robin", "v1"],
      ["split/round-robin", "v2"],
      ["split/round-robin", "v1"],
    ],
  );
});

Deno.test("rules read headers as policies left them, not as the client sent them", () => {
  const decision = new TrafficDecision(CHECKOUT, new TrafficRegistry(), (name) => name);
  const s = state({ requestHeaders: new Headers({ "x-env": "canary" }) });
  assert.equal(decision.choose(new Request("http://gw.test/"), s).rule, "canary[0]");
  const cleared = state({ requestHeaders: new Headers() });
  const req = new Request("http://gw.test/", { headers: { "x-env": "canary" } });
  assert.notEqual(decision.choose(req, cleared).rule, "canary[0]");
});

Deno.test("the color header is set for a colored rule and removed otherwise; untouched when absent", () => {
  const decision = new TrafficDecision(CHECKOUT, new TrafficRegistry(), (name) => name);
  const colored = state();
  decision.choose(
    new Request("http://gw.test/", { headers: { "x-env": "canary", "x-color": "blue" } }),
    colored,
  );
  assert.equal(colored.requestHeaders?.get("x-color"), "canary");
  assert.equal(colored.requestHeaders?.get("x-env"), "canary", "other headers are kept");

  const spoofed = state();
  decision.choose(new Request("http://gw.test/", { headers: { "x-color": "blue" } }), spoofed);
  assert.equal(spoofed.requestHeaders?.has("x-color"), false);

  // Nothing to remove: the incoming headers are not copied.
  const plain = state();
  decision.choose(new Request("http://gw.test/"), plain);
  assert.equal(plain.requestHeaders, undefined);
});

Deno.test("a registry hands the same round-robin to an unchanged split and a new one otherwise", () => {
  const registry = new TrafficRegistry();
  const split = CHECKOUT.split!;
  const first = registry.roundRobin("checkout", split);
  assert.equal(registry.roundRobin("checkout", structuredClone(split)), first);
  const changed = {
    ...split,
    targets: [{ upstream: "v1", weight: 1 }, { upstream: "v2", weight: 1 }],
  };
  assert.notEqual(registry.roundRobin("checkout", changed), first);
  assert.notEqual(registry.roundRobin("cart", split), registry.roundRobin("checkout", changed));
  registry.retainOnly(new Set(["cart"]));
  assert.equal(registry.size, 1);
});
