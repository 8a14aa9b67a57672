/**
 * A regex rewrite's replacement goes into the upstream request line. A "?" in it starts a query
 * the client's parameters join; characters a request line cannot hold are config errors, not
 * requests failing at the upstream one by one.
 */
import assert from "node:assert/strict";
import { rewrite } from "../../mod.ts";
import type { RewriteConfig } from "../../src/config/types.ts";
import {
  portOf,
  rawExchange,
  startEchoUpstream,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** The path and query the upstream saw for `requestPath` under `options`. */
async function rewritten(options: RewriteConfig, requestPath: string): Promise<string> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use: [rewrite(options)] }],
  });
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

const withLegacyQuery = { regex: { pattern: "^/(.*)$", replacement: "/v2/$1?legacy=1" } };

Deno.test("a replacement with a query gets the client's parameters after &, not a second ?", async () => {
  assert.equal(await rewritten(withLegacyQuery, "/a?x=1&y=2"), "/v2/a?legacy=1&x=1&y=2");
});

Deno.test("a replacement with a query and a request without one", async () => {
  assert.equal(await rewritten(withLegacyQuery, "/a"), "/v2/a?legacy=1");
});

Deno.test("a replacement ending in ? or & takes the client's query as is", async () => {
  const open = { regex: { pattern: "^/(.*)$", replacement: "/v2/$1?" } };
  assert.equal(await rewritten(open, "/a?x=1"), "/v2/a?x=1");
  const amp = { regex: { pattern: "^/(.*)$", replacement: "/v2/$1?k=v&" } };
  assert.equal(await rewritten(amp, "/a?x=1"), "/v2/a?k=v&x=1");
});

Deno.test("a second rewrite after a replacement with a query still sees the path alone", async () => {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      upstream: "api",
      use: [rewrite(withLegacyQuery), rewrite({ addPrefix: "/api" })],
    }],
  });
  try {
    const echoed = await (await fetch(`${gw.url}/a?x=1`)).json();
    assert.equal(echoed.path + echoed.query, "/api/v2/a?legacy=1&x=1");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

/** Starting a gateway whose rewrite has these options fails with a config error matching `re`. */
async function refused(options: RewriteConfig, re: RegExp): Promise<void> {
  await assert.rejects(
    startTestGateway({
      upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
      routes: [{ upstream: "api", use: [rewrite(options)] }],
    }, { admin: false }),
    re,
  );
}

Deno.test("replacements a request line cannot carry are config errors", async () => {
  const replacement = (text: string) => ({ regex: { pattern: "^/(.*)$", replacement: text } });
  // CR/LF would split the request head; a "#" cut the target short at the upstream (the
  // client's query went with it); a space or non-ASCII cannot be written at all.
  for (
    const bad of [
      "/v2/$1\r\nx-injected: 1",
      "/v2/$1#frag",
      "/café/$1",
      "/v2\t/$1",
      "/\u2603",
      "/a b",
    ]
  ) {
    await refused(
      replacement(bad),
      /replacement.*must not hold "#", spaces, control or non-ASCII/s,
    );
  }
});

Deno.test("prefixes with control characters are config errors (non-ASCII ones are sent encoded)", async () => {
  for (const bad of ["/a\u0000b", "/a\u007fb"]) {
    await refused({ addPrefix: bad }, /addPrefix.*control characters/s);
    await refused({ stripPrefix: bad }, /stripPrefix.*control characters/s);
  }
});

/** The request target the upstream received on the wire (a URL parser would resolve it). */
async function targetOnWire(options: RewriteConfig, requestPath: string): Promise<string> {
  const upstream = startRawUpstream(async (socket) => {
    while ((await socket.readHead()) !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ upstream: "api", use: [rewrite(options)] }],
  });
  try {
    const res = await rawExchange(
      portOf(gw),
      `GET ${requestPath} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
    );
    assert.equal(res.status, 200);
    return upstream.heads[0].split(" ")[1];
  } finally {
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a rewritten path is forwarded resolved, like the request path", async () => {
  // A capture starting inside a segment: "/img-.." is no dot segment to routing, but after the
  // rewrite "/images/../admin" is one the upstream would resolve to /admin.
  const midSegment = { regex: { pattern: "^/img-(.*)$", replacement: "/images/$1" } };
  assert.equal(await targetOnWire(midSegment, "/img-../admin?x=1"), "/admin?x=1");
  // A replacement that doubles a slash.
  const doubled = { regex: { pattern: "^/api(.*)$", replacement: "/svc/$1?v=2" } };
  assert.equal(await targetOnWire(doubled, "/api/users?x=1"), "/svc/users?v=2&x=1");
  // An escaped slash stays as sent, as it does before routing.
  assert.equal(await targetOnWire({ addPrefix: "/v2" }, "/a%2Fb"), "/v2/a%2Fb");
});

Deno.test("stripPrefix is read as request paths are: an escaped unreserved character matches", async () => {
  // Routing decodes `%61` to `a` before anything sees the path; a prefix written escaped (as
  // a route literal may be) must strip the same path.
  assert.equal(await targetOnWire({ stripPrefix: "/%61pi" }, "/api/users?x=1"), "/users?x=1");
});
