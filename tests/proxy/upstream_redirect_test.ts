/**
 * Redirects from an upstream are the client's business: the gateway passes the 3xx through as
 * is and never follows it (following would make it fetch arbitrary URLs on a server's say-so).
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream } from "../helpers/gateway.ts";

for (const status of [301, 302, 303, 307, 308]) {
  Deno.test(`an upstream ${status} reaches the client unchanged and is not followed`, async () => {
    // A real server at the Location, so a gateway that followed would visibly reach it.
    const elsewhere = startUpstream(() => new Response("followed"));
    const upstream = startUpstream(() =>
      new Response("see elsewhere", {
        status,
        headers: { location: `${elsewhere.url}/landing?from=upstream`, "x-upstream": "yes" },
      })
    );
    const gw = await startTestGateway(catchAll(upstream.url));
    try {
      const res = await fetch(`${gw.url}/start`, { redirect: "manual" });
      assert.equal(res.status, status);
      assert.equal(res.headers.get("location"), `${elsewhere.url}/landing?from=upstream`);
      assert.equal(res.headers.get("x-upstream"), "yes");
      assert.equal(await res.text(), "see elsewhere");
      assert.equal(upstream.received.length, 1);
      assert.deepEqual(elsewhere.received, []);
    } finally {
      await gw.close();
      await upstream.close();
      await elsewhere.close();
    }
  });
}
