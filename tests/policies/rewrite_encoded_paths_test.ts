/**
 * Rewrite prefixes and regex patterns are read as request paths are compared and forwarded:
 * non-ASCII characters and spaces as the percent-encoded UTF-8 clients send, escapes in upper
 * case and unreserved ones decoded, as route patterns are. Written any other way, a rewrite
 * next to a route for `/café/*` was refused or silently never matched.
 */
import assert from "node:assert/strict";
import { rewrite } from "../../mod.ts";
import type { RewriteConfig } from "../../src/config/types.ts";
import { validateConfig } from "../../src/config/validate.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** The path and query a real upstream saw for `requestPath` under a route for `/café/*`. */
async function forwarded(options: RewriteConfig, requestPath: string): Promise<string> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ match: { path: "/café/*" }, upstream: "api", use: [rewrite(options)] }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}${requestPath}`);
    assert.equal(res.status, 200);
    const echoed = await res.json();
    return echoed.path + echoed.query;
  } finally {
    await gw.close();
    await upstream.close();
  }
}

/** The messages validation gives for `options`, or [] when the config is valid. */
function problems(options: RewriteConfig): string[] {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
    routes: [{ upstream: "api", use: [rewrite(options)] }],
  });
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

Deno.test("stripPrefix with a non-ASCII character strips what clients send for it", async () => {
  assert.equal(await forwarded({ stripPrefix: "/café" }, "/caf%C3%A9/menu?x=1"), "/menu?x=1");
  assert.equal(await forwarded({ stripPrefix: "/café" }, "/caf%c3%a9/menu"), "/menu");
});

Deno.test("stripPrefix with a space strips %20", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use: [rewrite({ stripPrefix: "/my docs" })] }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/my%20docs/a.txt`);
    assert.equal((await res.json()).path, "/a.txt");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("addPrefix with a non-ASCII character is forwarded percent-encoded", async () => {
  assert.equal(
    await forwarded({ stripPrefix: "/café", addPrefix: "/crème brûlée" }, "/caf%C3%A9/x"),
    "/cr%C3%A8me%20br%C3%BBl%C3%A9e/x",
  );
});

Deno.test("a regex pattern with a non-ASCII character matches its percent-encoding", async () => {
  assert.equal(
    await forwarded(
      { regex: { pattern: "^/café/(.*)$", replacement: "/coffee/$1" } },
      "/caf%C3%A9/x?q=1",
    ),
    "/coffee/x?q=1",
  );
});

Deno.test("a quantifier after a non-ASCII character repeats the whole character", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [rewrite({ regex: { pattern: "^/hé+/(.*)$", replacement: "/h/$1" } })],
    }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/h%C3%A9%C3%A9%C3%A9/x`);
    assert.equal((await res.json()).path, "/h/x");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a regex pattern's escapes are read in the case and form request paths have", async () => {
  assert.equal(
    await forwarded(
      { regex: { pattern: "^/caf%c3%a9/(.*)$", replacement: "/c/$1" } },
      "/caf%C3%A9/x",
    ),
    "/c/x",
  );
  assert.equal(
    await forwarded(
      { regex: { pattern: "^/caf\\u00e9/(.*)$", replacement: "/c/$1" } },
      "/caf%C3%A9/y",
    ),
    "/c/y",
  );
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [rewrite({ regex: { pattern: "^/%7euser/(.*)$", replacement: "/home/$1" } })],
    }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/~user/z`);
    assert.equal((await res.json()).path, "/home/z");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a regex that only looks like an escape is left alone", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [
        rewrite({
          regex: { pattern: "^/(?<wörd>[a-z]+)/%[0-9A-F]{2}$", replacement: "/w/$1" },
        }),
      ],
    }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/abc/%2F`);
    assert.equal((await res.json()).path, "/w/abc");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("a stripPrefix that no resolved request path can hold is a config error", () => {
  for (const stripPrefix of ["/a/../b", "/a/./b", "/a//b", "/a\\b", "/a/.."]) {
    const [message] = problems({ stripPrefix });
    assert.match(message ?? "", /stripPrefix: can never match: request paths are resolved/);
  }
  assert.deepEqual(problems({ stripPrefix: "/.well-known/acme" }), []);
  assert.deepEqual(problems({ stripPrefix: "/café/" }), []);
});

Deno.test("a non-ASCII character inside a regex character class is a config error", () => {
  const [message] = problems({ regex: { pattern: "^/caf[eé]/(.*)$", replacement: "/c/$1" } });
  assert.match(message ?? "", /regex\.pattern: .*character class cannot match "é".*%C3%A9/);
  assert.deepEqual(
    problems({ regex: { pattern: "^/(?:e|é)/([^\\u0000-\\u0020]*)$", replacement: "/$1" } }),
    [],
  );
});

Deno.test("a prefix with a control character, '?' or a lone surrogate is a config error", () => {
  assert.match(problems({ stripPrefix: "/a\x01" })[0] ?? "", /control characters/);
  assert.match(problems({ addPrefix: "/a?b" })[0] ?? "", /must not hold "\?" or "#"/);
  assert.match(problems({ addPrefix: "/a\ud800" })[0] ?? "", /lone UTF-16 surrogate/);
});
