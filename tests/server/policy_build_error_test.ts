/**
 * A policy that refuses its options while the snapshot is built (after validation passed) is a
 * config error like any other: at start-up the gateway does not start, and on reload the old
 * config keeps serving, the error names the route's `use` entry, and `/config` reports it.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_error.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { refusingPolicyConfig } from "./refusing_policy_config.ts";

Deno.test("a policy refusing its options at start-up: the gateway does not start", async () => {
  const upstream = startEchoUpstream();
  try {
    await assert.rejects(
      () => startTestGateway(refusingPolicyConfig(upstream.url, true)),
      (e: unknown) =>
        e instanceof ConfigError && e.issues[0].path === "routes[0].use[0]" &&
        /SHOP_KEY is not set/.test(e.issues[0].message),
    );
  } finally {
    await upstream.close();
  }
});

Deno.test("a policy refusing its options on reload: the old config keeps serving", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway(refusingPolicyConfig(upstream.url, false));
  try {
    await assert.rejects(() => gw.reload(refusingPolicyConfig(upstream.url, true)), ConfigError);
    const res = await fetch(`${gw.url}/x`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    const view = await (await fetch(`${gw.adminUrl}/config`)).json();
    assert.equal(view.version, 1);
    // The same good config again is still "unchanged": the failed one was never applied.
    const again = await gw.reload(refusingPolicyConfig(upstream.url, false));
    assert.equal(again.changed, false);
  } finally {
    await gw.close();
    await upstream.close();
  }
});
