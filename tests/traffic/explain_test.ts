/**
 * `explain` shows the traffic decision: which canary rule matched (or why each did not), how a
 * split places the request (the sticky key and the side it hashes to, or the round-robin), on
 * `Gateway.explain`, the CLI's `explain` and the CLI's `routes`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../src/cli/main.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { formatExplanation } from "../../src/routing/explain.ts";
import { createGateway } from "../../src/server/gateway.ts";
import { sendAll, startNamedUpstreams } from "./upstreams.ts";

const CONFIG = {
  upstreams: {
    v1: { targets: ["http://127.0.0.1:1"] },
    v2: { targets: ["http://127.0.0.1:2"] },
  },
  routes: [{
    name: "checkout",
    match: { path: "/checkout/*" },
    canary: [
      { when: { header: { "x-env": "canary" } }, upstream: "v2", color: "canary" },
      { when: { claim: { tier: "beta" } }, upstream: "v2" },
    ],
    split: { targets: [{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }] },
    color: { header: "x-color" },
  }, {
    name: "cart",
    match: { path: "/cart/*" },
    split: {
      targets: [{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }],
      sticky: { header: "x-user-id" },
    },
  }],
};

async function explainText(method: string, url: string, headers?: HeadersInit) {
  const gw = await createGateway(CONFIG, { logger: new MemoryLogger() });
  try {
    const e = gw.explain(method, url, headers);
    return { e, text: formatExplanation(e) };
  } finally {
    await gw.close();
  }
}

Deno.test("explain: a matching header canary names the rule, the upstream and the color", async () => {
  const { e, text } = await explainText("GET", "http://gw.test/checkout/1", { "x-env": "canary" });
  assert.equal(e.winner?.traffic?.upstream, "v2");
  assert.equal(e.winner?.traffic?.color, "canary");
  assert.match(
    text,
    /^ {4}canary\[0\] header x-env = "canary" → upstream "v2": MATCH — header x-env is "canary", expected = "canary"$/m,
  );
  assert.match(text, /^ {4}traffic: canary\[0\] → upstream "v2" \(color "canary"\)$/m);
  assert.doesNotMatch(text, /canary\[1\]/, "rules after the match are not evaluated");
});

Deno.test("explain: says why each rule failed, that claims are decided per request, and that WRR depends on traffic", async () => {
  const { e, text } = await explainText("GET", "http://gw.test/checkout/1", { "x-env": "prod" });
  assert.equal(e.winner?.traffic?.upstream, undefined, "the upstream depends on traffic");
  assert.match(text, /canary\[0\] .*: no — header x-env is "prod", expected = "canary"$/m);
  assert.match(
    text,
    /canary\[1\] claim tier = "beta" → upstream "v2": unknown — claims are verified/m,
  );
  assert.match(
    text,
    /^ {4}traffic: unless a claim rule matches: split "v1" 95 \/ "v2" 5: weighted round-robin 95\/5 \(next pick depends on traffic\)$/m,
  );
  assert.match(
    text,
    /→ routes\[0\] checkout: canaries \[header x-env → "v2" \(color "canary"\), claim tier → "v2"\], else split "v1" 95 \/ "v2" 5$/m,
  );
});

Deno.test("explain: a sticky key's side is the side real traffic with that key lands on", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const config = { ...CONFIG, upstreams: ups.config };
  const gw = await createGateway(config, { logger: new MemoryLogger() });
  try {
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const served = await sendAll(
      gw.fetch,
      keys.length,
      (i) => new Request("http://gw.test/cart/x", { headers: { "x-user-id": keys[i] } }),
    );
    assert.ok(served.includes("v2") && served.includes("v1"), "both sides are exercised");
    keys.forEach((key, i) => {
      const e = gw.explain("GET", "http://gw.test/cart/x", { "x-user-id": key });
      assert.equal(e.winner?.traffic?.upstream, served[i], key);
      assert.match(
        formatExplanation(e),
        new RegExp(`sticky by header x-user-id: "${key}" hashes to "${served[i]}"`),
      );
    });
    const keyless = formatExplanation(gw.explain("GET", "http://gw.test/cart/x"));
    assert.match(
      keyless,
      /the request has no header x-user-id, so weighted round-robin 95\/5 \(next pick depends on traffic\)/,
    );
  } finally {
    await gw.close();
    await ups.close();
  }
});

/** Runs the CLI in-process on a config file; returns its exit code and output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-traffic-cli-" });
  try {
    const file = join(dir, "routes.config.json");
    await Deno.writeTextFile(file, JSON.stringify(CONFIG));
    let out = "", err = "";
    const code = await main([args[0], "--config", file, ...args.slice(1)], {
      out: (t) => out += t + "\n",
      err: (t) => err += t + "\n",
    });
    return { code, out, err };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("CLI explain prints the canary verdicts and the split decision", async () => {
  const canary = await cli(["explain", "GET", "/checkout/1", "-H", "x-env: canary"]);
  assert.equal(canary.code, 0, canary.err);
  assert.match(canary.out, /traffic: canary\[0\] → upstream "v2" \(color "canary"\)/);
  const sticky = await cli(["explain", "GET", "/cart/1", "-H", "x-user-id: user-7"]);
  assert.equal(sticky.code, 0, sticky.err);
  assert.match(
    sticky.out,
    /traffic: split "v1" 95 \/ "v2" 5, sticky by header x-user-id: "user-7" hashes to "v[12]"/,
  );
});

Deno.test("CLI routes shows splits, stickiness and canaries in the action column", async () => {
  const { code, out, err } = await cli(["routes"]);
  assert.equal(code, 0, err);
  assert.match(
    out,
    /checkout .*canaries \[header x-env → "v2" \(color "canary"\), claim tier → "v2"\], else split "v1" 95 \/ "v2" 5/,
  );
  assert.match(out, /cart .*split "v1" 95 \/ "v2" 5 sticky by header x-user-id/);
});
