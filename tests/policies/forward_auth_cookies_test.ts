/**
 * `forwardAuth`'s `responseCookies`: the cookies a real auth service (a `Deno.serve` on
 * 127.0.0.1) sets on its 2xx answer reach the client with the response of a real upstream,
 * whatever that response is, each `Set-Cookie` on its own line, beside the upstream's own. Read
 * off the wire, so a comma-joined line would show.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";
import { forwardAuth, type ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import { ipFilter } from "../../src/policies/ip_filter.ts";
import {
  freePort,
  portOf,
  rawExchange,
  startTestGateway,
  startUpstream,
  type TestUpstream,
} from "../helpers/gateway.ts";

/** oauth2-proxy's refreshed session: the comma in `Expires` is why lines must stay apart. */
const SESSION =
  "_oauth2_proxy=refreshed; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly; Secure";

/** Response headers with one `Set-Cookie` line per entry of `cookies`. */
function withSetCookies(cookies: readonly string[], init: HeadersInit = {}): Headers {
  const headers = new Headers(init);
  for (const line of cookies) headers.append("set-cookie", line);
  return headers;
}

/** A real auth service answering 202 (as oauth2-proxy's `/oauth2/auth` does) with `cookies`. */
function startAuthService(cookies: () => readonly string[]) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(null, { status: 202, headers: withSetCookies(cookies()) }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/oauth2/auth`,
    close: () => server.shutdown(),
  };
}

/** An upstream answering `status` with `cookies` of its own. */
function cookieUpstream(status: number, cookies: readonly string[]): TestUpstream {
  return startUpstream(() =>
    new Response("from the upstream", { status, headers: withSetCookies(cookies) })
  );
}

/**
 * Runs `body` against a gateway whose routes ("/ok/*", "/fails/*", ...) are given by `routes`,
 * each using `forwardAuth` with the auth service's url and `options` first, then closes all.
 */
async function withGateway(
  authCookies: () => readonly string[],
  options: Omit<ForwardAuthOptions, "url">,
  upstreams: Record<string, string>,
  routes: (auth: ReturnType<typeof forwardAuth>) => Record<string, unknown>[],
  body: (port: number) => Promise<void>,
) {
  const auth = startAuthService(authCookies);
  try {
    const gw = await startTestGateway({
      upstreams: Object.fromEntries(
        Object.entries(upstreams).map(([name, url]) => [name, { targets: [url] }]),
      ),
      routes: routes(forwardAuth({ url: auth.url, ...options })),
    });
    try {
      await body(portOf(gw));
    } finally {
      await gw.close();
    }
  } finally {
    await auth.close();
  }
}

/** The `Set-Cookie` lines of the gateway's answer to `GET path`, in wire order. */
async function setCookiesOf(port: number, path: string, expectStatus: number): Promise<string[]> {
  const res = await rawExchange(
    port,
    `GET ${path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(res.status, expectStatus, res.text());
  return res.all("set-cookie");
}

Deno.test("a 2xx answer's listed cookies reach the client beside the upstream's, each on its own line", async () => {
  const upstream = cookieUpstream(200, ["app=1; Path=/", "theme=dark"]);
  try {
    await withGateway(
      () => [SESSION, "unlisted=nope; Path=/"],
      { responseCookies: ["_oauth2_proxy"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth] }],
      async (port) => {
        assert.deepEqual(await setCookiesOf(port, "/orders", 200), [
          "app=1; Path=/",
          "theme=dark",
          SESSION,
        ]);
      },
    );
  } finally {
    await upstream.close();
  }
});

Deno.test("the auth service's cookies reach the client whatever answers: an upstream error, no upstream, a later policy's refusal", async () => {
  const failing = cookieUpstream(500, ["app=1"]);
  try {
    await withGateway(
      () => [SESSION],
      { responseCookies: ["_oauth2_proxy"] },
      { failing: failing.url, gone: `http://127.0.0.1:${freePort()}` },
      (auth) => [
        { name: "fails", match: { path: "/fails/*" }, upstream: "failing", use: [auth] },
        { name: "gone", match: { path: "/gone/*" }, upstream: "gone", use: [auth] },
        {
          name: "refused",
          match: { path: "/refused/*" },
          upstream: "failing",
          use: [auth, ipFilter({ deny: ["127.0.0.0/8"] })],
        },
      ],
      async (port) => {
        assert.deepEqual(await setCookiesOf(port, "/fails/x", 500), ["app=1", SESSION]);
        assert.deepEqual(await setCookiesOf(port, "/gone/x", 502), [SESSION]);
        assert.deepEqual(await setCookiesOf(port, "/refused/x", 403), [SESSION]);
      },
    );
  } finally {
    await failing.close();
  }
});

Deno.test("a name ending in * takes every cookie it starts, as oauth2-proxy splits a large session", async () => {
  const upstream = cookieUpstream(200, []);
  const split = ["_oauth2_proxy_0=part0; Path=/", "_oauth2_proxy_1=part1; Path=/", "other=x"];
  try {
    await withGateway(
      () => split,
      { responseCookies: ["_oauth2_proxy*"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth] }],
      async (port) => {
        assert.deepEqual(await setCookiesOf(port, "/", 200), split.slice(0, 2));
      },
    );
    await withGateway(
      () => split,
      { responseCookies: ["*"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth] }],
      async (port) => assert.deepEqual(await setCookiesOf(port, "/", 200), split),
    );
  } finally {
    await upstream.close();
  }
});

Deno.test("an upstream cookie named like one the auth service sets is replaced by the auth service's, and kept when it sets none", async () => {
  const upstream = cookieUpstream(200, ["_oauth2_proxy=stale", "app=1"]);
  let refreshes = [SESSION];
  try {
    await withGateway(
      () => refreshes,
      { responseCookies: ["_oauth2_proxy"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth] }],
      async (port) => {
        assert.deepEqual(await setCookiesOf(port, "/", 200), ["app=1", SESSION]);
        refreshes = [];
        assert.deepEqual(await setCookiesOf(port, "/", 200), ["_oauth2_proxy=stale", "app=1"]);
      },
    );
  } finally {
    await upstream.close();
  }
});

Deno.test("a WebSocket upgrade carries the auth service's cookies on its 101", async () => {
  const upstream = startUpstream((req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.close();
    return response;
  });
  try {
    await withGateway(
      () => [SESSION],
      { responseCookies: ["_oauth2_proxy"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth] }],
      async (port) => {
        const res = await rawExchange(
          port,
          "GET /ws HTTP/1.1\r\nHost: app.example\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n",
        );
        assert.equal(res.status, 101);
        assert.deepEqual(res.all("set-cookie"), [SESSION]);
      },
    );
  } finally {
    await upstream.close();
  }
});

Deno.test("a later custom policy answering with a fetch() response (immutable headers) gets the cookies too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-forward-auth-cookies-" });
  const upstream = cookieUpstream(200, ["app=1"]);
  try {
    // Handed on as `fetch` returned it: its headers cannot be changed in place.
    await Deno.writeTextFile(
      `${dir}/passthrough.ts`,
      "export default (options) => () => fetch(options.url);\n",
    );
    const custom = {
      kind: "custom",
      options: { module: `${dir}/passthrough.ts`, options: { url: upstream.url } },
    };
    await withGateway(
      () => [SESSION],
      { responseCookies: ["_oauth2_proxy"] },
      { api: upstream.url },
      (auth) => [{ name: "api", upstream: "api", use: [auth, custom] }],
      async (port) => assert.deepEqual(await setCookiesOf(port, "/", 200), ["app=1", SESSION]),
    );
  } finally {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Validation

const AT = "routes[0].use[0].options";

/** Validation errors (path → message) for a route using forwardAuth with `options`. */
function errorsFor(options: unknown): Record<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [{ kind: "forwardAuth", options }] }],
  });
  if (result.ok) return {};
  return Object.fromEntries(result.errors.map((e) => [e.path, e.message]));
}

Deno.test("bad responseCookies are reported at their exact path", () => {
  const url = "http://127.0.0.1:9000/verify";
  const rule = "must be a cookie name (letters, digits and !#$%&'+-.^_`|~), optionally ending " +
    'in "*" to take every cookie whose name starts with it';
  const cases: [unknown, Record<string, string>][] = [
    [{ url, responseCookies: ["ok", "a b"] }, {
      [`${AT}.responseCookies[1]`]: `"a b" ${rule}`,
    }],
    [{ url, responseCookies: [""] }, { [`${AT}.responseCookies[0]`]: `"" ${rule}` }],
    [{ url, responseCookies: ["a*b"] }, { [`${AT}.responseCookies[0]`]: `"a*b" ${rule}` }],
    [{ url, responseCookies: ["sid=1"] }, { [`${AT}.responseCookies[0]`]: `"sid=1" ${rule}` }],
    [{ url, responseCookies: true }, {
      [`${AT}.responseCookies`]: "expected a list, got true",
    }],
    [
      { url, responseCookie: ["_oauth2_proxy"] },
      { [`${AT}.responseCookie`]: 'unknown key "responseCookie"; did you mean "responseCookies"?' },
    ],
  ];
  for (const [options, expected] of cases) {
    assert.deepEqual(errorsFor(options), expected, JSON.stringify(options));
  }
  assert.deepEqual(errorsFor({ url, responseCookies: ["_oauth2_proxy*", "*", "__Host-sid"] }), {});
});
