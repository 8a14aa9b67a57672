/**
 * A header or query regex condition is tested against at most MAX_REGEX_INPUT characters: a
 * longer value does not match. That bounds the polynomial backtracking load-time checks allow
 * (`\s+$` is quadratic) on the long header values the server accepts. Only ordinary,
 * linear-time patterns run here.
 */
import assert from "node:assert/strict";
import { MAX_REGEX_INPUT } from "../../src/routing/conditions.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a header regex condition does not match a value longer than the cap", async () => {
  const tenants = startEchoUpstream();
  const rest = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { tenants: { targets: [tenants.url] }, rest: { targets: [rest.url] } },
    routes: [
      {
        name: "tenant",
        match: { headers: { "x-tenant": { regex: "^t-[0-9]+$" } } },
        upstream: "tenants",
      },
      { name: "query", match: { query: { id: { regex: "^[0-9]+$" } } }, upstream: "tenants" },
      { name: "rest", upstream: "rest" },
    ],
  }, { admin: false });
  try {
    const atCap = "t-" + "7".repeat(MAX_REGEX_INPUT - 2);
    const overCap = atCap + "7";
    const send = async (value: string) => {
      const res = await fetch(`${gw.url}/x`, { headers: { "x-tenant": value } });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    };
    await send(atCap);
    await send(overCap);
    assert.equal(tenants.received.length, 1, "only the value within the cap was routed");
    assert.equal(tenants.received[0].headers.get("x-tenant"), atCap);
    assert.equal(rest.received.length, 1);
    assert.equal(rest.received[0].headers.get("x-tenant"), overCap);

    // explain gives the same verdict, with the reason.
    const explained = gw.explain("GET", "http://x/x", { "x-tenant": overCap });
    assert.equal(explained.winner?.name, "rest");
    assert.deepEqual(explained.verdicts[0].reasons, [
      `header x-tenant is ${MAX_REGEX_INPUT + 1} characters long, more than the ` +
      `${MAX_REGEX_INPUT} a regex condition reads`,
    ]);
    assert.equal(gw.explain("GET", "http://x/x", { "x-tenant": atCap }).winner?.name, "tenant");

    // Query conditions have the same cap.
    const digits = "1".repeat(MAX_REGEX_INPUT);
    assert.equal(gw.explain("GET", `http://x/x?id=${digits}`).winner?.name, "query");
    assert.equal(gw.explain("GET", `http://x/x?id=${digits}1`).winner?.name, "rest");
  } finally {
    await gw.close();
    await tenants.close();
    await rest.close();
  }
});
