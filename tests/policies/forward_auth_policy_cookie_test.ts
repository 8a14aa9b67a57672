/**
 * `forwardAuth` sends the Cookie header as the policies before it left it: a cookie a `headers`
 * policy added reaches the auth service as its own pair (`a=1; tenant=acme`), not joined with
 * ", " as `Headers` joins repeated fields. A real auth service (a `Deno.serve` on 127.0.0.1) reads
 * its session cookie as Go's `net/http` (oauth2-proxy) does, splitting on ";" only, in front of a
 * real upstream, behind a real gateway.
 */
import assert from "node:assert/strict";
import { forwardAuth } from "../../src/policies/forward_auth.ts";
import { headers } from "../../src/policies/headers.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The cookies of a Cookie header as Go's `http.Request.Cookie` reads them: pairs split on ";". */
function goCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const pair = part.trim();
    const eq = pair.indexOf("=");
    if (eq > 0) cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return cookies;
}

/**
 * An auth service that, like oauth2-proxy, allows (202) only a request whose `_oauth2_proxy`
 * cookie holds the session `abc`, and refuses (401) anything else; it records the Cookie it got.
 */
function startSessionAuthService() {
  const cookies: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const cookie = req.headers.get("cookie");
    cookies.push(cookie);
    const session = goCookies(cookie).get("_oauth2_proxy");
    return new Response(null, { status: session === "abc" ? 202 : 401 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/oauth2/auth`,
    cookies,
    close: () => server.shutdown(),
  };
}

Deno.test("a cookie a headers policy added reaches the auth service as its own pair, and the session is read", async () => {
  const auth = startSessionAuthService();
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{
        name: "api",
        upstream: "api",
        use: [
          headers({ request: { add: { cookie: "tenant=acme" } } }),
          forwardAuth({ url: auth.url }),
        ],
      }],
    });
    try {
      const res = await fetch(`${gw.url}/orders`, { headers: { cookie: "_oauth2_proxy=abc" } });
      assert.equal(res.status, 200, "the user's session must be read as abc and allowed");
      const echoed = await res.json();
      assert.deepEqual(auth.cookies, ["_oauth2_proxy=abc; tenant=acme"]);
      assert.equal(echoed.headers.cookie, "_oauth2_proxy=abc; tenant=acme");
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.close();
  }
});

Deno.test("a client's own Cookie reaches the auth service unchanged when no policy added one", async () => {
  const auth = startSessionAuthService();
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ name: "api", upstream: "api", use: [forwardAuth({ url: auth.url })] }],
    });
    try {
      // A value with ", " that is no join (a date) is the client's to send as it is.
      const sent = "_oauth2_proxy=abc; seen=Mon, 01 Jan 2024";
      const res = await fetch(`${gw.url}/orders`, { headers: { cookie: sent } });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.deepEqual(auth.cookies, [sent]);
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.close();
  }
});
