/**
 * The `forwardAuth` policy against a real auth service (a `Deno.serve` on 127.0.0.1 whose
 * answers each test decides) and a real echo upstream: 2xx lets the request through with the
 * auth service's headers, any other answer reaches the client as the auth service sent it, and
 * no answer refuses the request. Validation names the exact path of every bad option.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate.ts";
import { forwardAuth, type ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import {
  freePort,
  readProblem,
  startEchoUpstream,
  startTestGateway,
  type TestUpstream,
} from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";
import { scrapeMetrics } from "../helpers/reload.ts";

/** What the auth service received: everything, body included, to show what was not sent. */
interface AuthRequest {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

/** A real auth service whose answer is `decide` (replaceable by the test at any time). */
function startAuthService(decide: (req: Request) => Response | Promise<Response>) {
  const received: AuthRequest[] = [];
  const service = {
    decide,
    received,
    url: "",
    close: () => server.shutdown(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    received.push({
      method: req.method,
      path: url.pathname,
      headers: req.headers,
      body: await req.text(),
    });
    return await service.decide(req);
  });
  service.url = `http://127.0.0.1:${server.addr.port}`;
  return service;
}

interface Setup {
  gw: Awaited<ReturnType<typeof startTestGateway>> & { adminUrl: string };
  upstream: TestUpstream;
}

/**
 * Runs `body` with an echo upstream and a gateway whose one route ("api") uses `forwardAuth`
 * with `options`, then closes both (also when `body` throws).
 */
async function withGateway(
  options: ForwardAuthOptions,
  body: (setup: Setup) => Promise<void>,
  extra: Record<string, unknown> = {},
) {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ name: "api", upstream: "api", use: [forwardAuth(options)] }],
    ...extra,
  });
  try {
    await body({ gw: gw as Setup["gw"], upstream });
  } finally {
    await gw.close();
    await upstream.close();
  }
}

/** `ferry_auth_failures_total{policy="forwardAuth",reason}`, 0 when the series is absent. */
async function failures(adminUrl: string, reason: string): Promise<number> {
  const metrics = await scrapeMetrics(adminUrl);
  return metrics.get(`ferry_auth_failures_total{policy="forwardAuth",reason="${reason}"}`) ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Allow

Deno.test("2xx allows: the upstream gets the auth service's headers and the subject is logged", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const auth = startAuthService(() =>
      new Response("ok", { headers: { "x-user-id": "alice", "x-user-roles": "admin,ops" } })
    );
    try {
      let requestId = "";
      await withGateway({
        url: `${auth.url}/verify`,
        responseHeaders: ["x-user-id", "X-User-Roles"],
        subjectHeader: "x-user-id",
      }, async ({ gw, upstream }) => {
        const res = await fetch(`${gw.url}/orders/7`, {
          headers: { authorization: "Bearer good" },
        });
        assert.equal(res.status, 200);
        requestId = res.headers.get("x-request-id")!;
        const echoed = await res.json();
        assert.equal(echoed.path, "/orders/7");
        assert.equal(echoed.headers["x-user-id"], "alice");
        assert.equal(echoed.headers["x-user-roles"], "admin,ops");
        assert.equal(echoed.headers["authorization"], "Bearer good", "the credential goes on");
        assert.equal(upstream.received.length, 1);
        assert.equal(auth.received.length, 1);
        assert.equal(auth.received[0].path, "/verify");
        assert.equal(await failures(gw.adminUrl, "denied_4xx"), 0);
      }, { accessLog: { to: { file } } });

      const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l !== "");
      const entry = lines.map((l) => JSON.parse(l)).find((e) => e.requestId === requestId);
      assert.ok(entry, `no access-log line for ${requestId}: ${lines.join("\n")}`);
      assert.equal(entry.subject, "alice");
      assert.equal(entry.status, 200);
    } finally {
      await auth.close();
    }
  });
});

Deno.test("a client cannot spoof the copied headers, even when the auth service sets none", async () => {
  // Allows, but says nothing about roles: the client's own x-user-roles must not survive.
  const auth = startAuthService(() =>
    new Response(null, { status: 204, headers: { "x-user-id": "bob" } })
  );
  try {
    await withGateway({
      url: `${auth.url}/verify`,
      responseHeaders: ["x-user-id", "x-user-roles"],
    }, async ({ gw }) => {
      const res = await fetch(`${gw.url}/`, {
        headers: { "x-user-id": "admin", "x-user-roles": "superuser", "x-other": "kept" },
      });
      assert.equal(res.status, 200);
      const echoed = await res.json();
      assert.equal(echoed.headers["x-user-id"], "bob", "the auth service's value replaces it");
      assert.equal(echoed.headers["x-user-roles"], undefined, "a spoofed header is removed");
      assert.equal(echoed.headers["x-other"], "kept", "headers not listed are untouched");
    });
  } finally {
    await auth.close();
  }
});

Deno.test("the auth service gets the selected headers and X-Forwarded-*, never the body", async () => {
  const auth = startAuthService(() => new Response(null, { status: 200 }));
  try {
    await withGateway({
      url: `${auth.url}/check`,
      requestHeaders: ["Authorization", "cookie", "x-tenant"],
    }, async ({ gw }) => {
      const res = await fetch(`${gw.url}/orders/7?expand=items`, {
        method: "POST",
        body: "secret-body",
        headers: {
          authorization: "Bearer t",
          cookie: "session=s1",
          "x-tenant": "acme",
          "x-not-selected": "private",
          "content-type": "text/plain",
          // Not a trusted proxy: this must not reach the auth service as the client's address.
          "x-forwarded-for": "203.0.113.9",
        },
      });
      assert.equal(res.status, 200);
      const echoed = await res.json();
      assert.equal(echoed.body, "secret-body", "the upstream still gets the body");

      assert.equal(auth.received.length, 1);
      const seen = auth.received[0];
      assert.equal(seen.method, "GET", "the default method");
      assert.equal(seen.path, "/check");
      assert.equal(seen.body, "", "the client's body is not sent");
      assert.equal(seen.headers.get("authorization"), "Bearer t");
      assert.equal(seen.headers.get("cookie"), "session=s1");
      assert.equal(seen.headers.get("x-tenant"), "acme");
      assert.equal(seen.headers.get("x-not-selected"), null);
      assert.equal(seen.headers.get("content-type"), null);
      assert.equal(seen.headers.get("x-forwarded-method"), "POST");
      assert.equal(seen.headers.get("x-forwarded-uri"), "/orders/7?expand=items");
      assert.equal(seen.headers.get("x-forwarded-host"), new URL(gw.url).host);
      assert.equal(seen.headers.get("x-forwarded-proto"), "http");
      assert.equal(seen.headers.get("x-forwarded-for"), "127.0.0.1");
      assert.equal(seen.headers.get("x-request-id"), res.headers.get("x-request-id"));
    });
  } finally {
    await auth.close();
  }
});

Deno.test("method POST is used when configured, still without the client's body", async () => {
  const auth = startAuthService(() => new Response(null, { status: 200 }));
  try {
    await withGateway({ url: `${auth.url}/check`, method: "POST" }, async ({ gw }) => {
      const res = await fetch(`${gw.url}/x`, { method: "PUT", body: "payload" });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal(auth.received[0].method, "POST");
      assert.equal(auth.received[0].body, "");
      assert.equal(auth.received[0].headers.get("x-forwarded-method"), "PUT");
    });
  } finally {
    await auth.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Deny: the auth service's answer reaches the client

Deno.test("401 with WWW-Authenticate and cookies reaches the client as sent; hop-by-hop removed", async () => {
  const auth = startAuthService(() => {
    const headers = new Headers({
      "www-authenticate": 'Bearer realm="api", error="invalid_token"',
      "content-type": "application/json",
      "proxy-authenticate": "Basic",
      connection: "x-hop",
      "x-hop": "secret",
      "x-auth-reason": "expired",
    });
    headers.append("set-cookie", "a=1; Path=/");
    headers.append("set-cookie", "b=2; Path=/");
    return new Response(JSON.stringify({ error: "expired" }), { status: 401, headers });
  });
  try {
    await withGateway({ url: `${auth.url}/verify` }, async ({ gw, upstream }) => {
      const res = await fetch(`${gw.url}/orders`, { headers: { authorization: "Bearer old" } });
      assert.equal(res.status, 401);
      assert.equal(
        res.headers.get("www-authenticate"),
        'Bearer realm="api", error="invalid_token"',
      );
      assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
      assert.equal(res.headers.get("x-auth-reason"), "expired");
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(res.headers.get("proxy-authenticate"), null);
      assert.equal(res.headers.get("x-hop"), null, "a header named by Connection is hop-by-hop");
      assert.ok(res.headers.get("x-request-id"), "the gateway's request id is kept");
      assert.deepEqual(await res.json(), { error: "expired" });
      assert.equal(upstream.received.length, 0, "a denied request never reaches the upstream");
      assert.equal(await failures(gw.adminUrl, "denied_4xx"), 1);
    });
  } finally {
    await auth.close();
  }
});

Deno.test("302 to a login page reaches the client with its Location", async () => {
  const auth = startAuthService((req) =>
    new Response(null, {
      status: 302,
      headers: {
        location: `https://login.example/?rd=${
          encodeURIComponent(req.headers.get("x-forwarded-uri")!)
        }`,
        "set-cookie": "state=xyz; HttpOnly",
      },
    })
  );
  try {
    await withGateway({ url: `${auth.url}/verify` }, async ({ gw, upstream }) => {
      const res = await fetch(`${gw.url}/app/home?tab=1`, { redirect: "manual" });
      assert.equal(res.status, 302);
      assert.equal(
        res.headers.get("location"),
        "https://login.example/?rd=%2Fapp%2Fhome%3Ftab%3D1",
      );
      assert.deepEqual(res.headers.getSetCookie(), ["state=xyz; HttpOnly"]);
      assert.equal(await res.text(), "");
      assert.equal(upstream.received.length, 0);
      assert.equal(await failures(gw.adminUrl, "denied_3xx"), 1);
    });
  } finally {
    await auth.close();
  }
});

Deno.test("403 with a compressed HTML body reaches the client decoded and intact", async () => {
  const page = `<h1>Forbidden</h1><p>${"you may not pass ".repeat(200)}</p>`;
  const auth = startAuthService(() => {
    // Sent gzipped on purpose: the gateway's fetch decodes it, so the coding must be dropped.
    const gzipped = new Blob([page]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(gzipped, {
      status: 403,
      headers: { "content-type": "text/html", "content-encoding": "gzip" },
    });
  });
  try {
    await withGateway({ url: `${auth.url}/verify` }, async ({ gw, upstream }) => {
      const res = await fetch(`${gw.url}/admin`);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("content-type"), "text/html");
      assert.equal(res.headers.get("content-encoding"), null);
      assert.equal(await res.text(), page);
      assert.equal(upstream.received.length, 0);
      assert.equal(await failures(gw.adminUrl, "denied_4xx"), 1);
    });
  } finally {
    await auth.close();
  }
});

Deno.test("a 5xx from the auth service is handed on and refuses the request", async () => {
  const auth = startAuthService(() => new Response("auth broke", { status: 500 }));
  try {
    await withGateway({ url: `${auth.url}/verify` }, async ({ gw, upstream }) => {
      const res = await fetch(`${gw.url}/`);
      assert.equal(res.status, 500);
      assert.equal(await res.text(), "auth broke");
      assert.equal(upstream.received.length, 0);
      assert.equal(await failures(gw.adminUrl, "denied_5xx"), 1);
    });
  } finally {
    await auth.close();
  }
});

Deno.test("a denial body over 64 KiB is dropped; status and challenge still reach the client", async () => {
  const auth = startAuthService(() =>
    new Response("x".repeat(64 * 1024 + 1), {
      status: 401,
      headers: { "www-authenticate": "Basic", "content-type": "text/plain" },
    })
  );
  try {
    await withGateway({ url: `${auth.url}/verify` }, async ({ gw, upstream }) => {
      const res = await fetch(`${gw.url}/`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), "Basic");
      assert.equal(res.headers.get("content-type"), null, "no body, so no type either");
      assert.equal(await res.text(), "");
      assert.equal(upstream.received.length, 0);
      const warned = gw.logger.lines.filter((l) => l.message.includes("too large"));
      assert.equal(warned.length, 1);
    });
  } finally {
    await auth.close();
  }
});

// ---------------------------------------------------------------------------------------------
// No answer: fail closed

Deno.test("an auth service that never answers fails closed within the timeout", async () => {
  const held = Promise.withResolvers<void>();
  const auth = startAuthService(async () => {
    await held.promise;
    return new Response("too late");
  });
  try {
    await withGateway({ url: `${auth.url}/verify`, timeout: "150ms" }, async ({ gw, upstream }) => {
      const sent = performance.now();
      const res = await fetch(`${gw.url}/orders`);
      const elapsed = performance.now() - sent;
      console.log(`fail-closed answer after ${elapsed.toFixed(1)} ms (timeout 150 ms)`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const body = await readProblem(res);
      assert.equal(body.type, "https://ferry.dev/problems/auth-unavailable");
      assert.equal(body.title, "Authentication service unavailable");
      assert.match(body.detail, /did not answer within 150 ms/);
      // A lower bound only: timers run on whole milliseconds, so allow 1 ms of rounding.
      assert.ok(elapsed >= 149, `answered after ${elapsed.toFixed(1)} ms`);
      assert.equal(auth.received.length, 1, "the auth service was asked");
      assert.equal(upstream.received.length, 0, "and nothing went through");
      assert.equal(await failures(gw.adminUrl, "timeout"), 1);
    });
  } finally {
    held.resolve();
    await auth.close();
  }
});

Deno.test("an auth service that is down fails closed, logged once per outage", async () => {
  await withGateway({ url: `http://127.0.0.1:${freePort()}/verify` }, async ({ gw, upstream }) => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/orders`, { headers: { authorization: "Bearer t" } });
      assert.equal(res.status, 503);
      const body = await readProblem(res);
      assert.equal(body.type, "https://ferry.dev/problems/auth-unavailable");
      assert.equal(body.title, "Authentication service unavailable");
      assert.match(body.detail, /could not be reached/);
      assert.ok(!body.detail.includes("Bearer"), "the credential is not echoed");
    }
    assert.equal(upstream.received.length, 0);
    assert.equal(await failures(gw.adminUrl, "unreachable"), 2);
    const warned = gw.logger.lines.filter((l) => l.message.includes("unavailable"));
    assert.equal(warned.length, 1, JSON.stringify(gw.logger.lines));
    assert.equal(warned[0].level, "warn");
  });
});

Deno.test("after an outage, the next answer is logged as a recovery and requests flow", async () => {
  const held = Promise.withResolvers<void>();
  let answer = false;
  const auth = startAuthService(async () => {
    if (!answer) await held.promise;
    return new Response(null, { status: 204 });
  });
  try {
    await withGateway({ url: `${auth.url}/verify`, timeout: "50ms" }, async ({ gw, upstream }) => {
      const down = await fetch(`${gw.url}/`);
      assert.equal(down.status, 503);
      await down.body?.cancel();
      answer = true;
      const up = await fetch(`${gw.url}/`);
      assert.equal(up.status, 200);
      await up.body?.cancel();
      assert.equal(upstream.received.length, 1);
      const messages = gw.logger.lines
        .filter((l) => l.message.startsWith("forward auth"))
        .map((l) => l.level);
      assert.deepEqual(messages, ["warn", "info"]);
    });
  } finally {
    held.resolve();
    await auth.close();
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

Deno.test("every bad option is reported at its exact path", () => {
  const url = "http://127.0.0.1:9000/verify";
  const cases: [unknown, Record<string, string>][] = [
    [{}, { [`${AT}.url`]: "missing: expected a string" }],
    [
      { url: "ftp://auth/verify" },
      {
        [`${AT}.url`]:
          '"ftp://auth/verify" must be an absolute "http:" or "https:" URL without user or password',
      },
    ],
    [
      { url: "/verify" },
      {
        [`${AT}.url`]:
          '"/verify" must be an absolute "http:" or "https:" URL without user or password',
      },
    ],
    [
      { url: "http://user:pw@auth/verify" },
      {
        [`${AT}.url`]:
          // The credentials themselves are not echoed: messages reach logs.
          '"http://***@auth/verify" must be an absolute "http:" or "https:" URL without user ' +
          "or password",
      },
    ],
    [{ url, method: "PUT" }, { [`${AT}.method`]: 'expected "GET" or "HEAD" or "POST", got "PUT"' }],
    [
      { url, requestHeaders: ["authorization", "x y"] },
      { [`${AT}.requestHeaders[1]`]: '"x y" must be a valid HTTP header name' },
    ],
    [
      { url, requestHeaders: ["Connection"] },
      {
        [`${AT}.requestHeaders[0]`]:
          '"Connection" must not be a hop-by-hop header or one Ferry sets itself (host, ' +
          "content-length, expect, x-forwarded-*, x-request-id)",
      },
    ],
    [
      { url, responseHeaders: ["x-user", "X-Forwarded-For"] },
      {
        [`${AT}.responseHeaders[1]`]:
          '"X-Forwarded-For" must not be a hop-by-hop header or one Ferry sets itself (host, ' +
          "content-length, expect, x-forwarded-*, x-request-id)",
      },
    ],
    [{ url, responseHeaders: "x-user" }, {
      [`${AT}.responseHeaders`]: 'expected a list, got "x-user"',
    }],
    [
      { url, subjectHeader: "x user" },
      { [`${AT}.subjectHeader`]: '"x user" must be a valid HTTP header name' },
    ],
    [
      { url, timeout: "0ms" },
      {
        [`${AT}.timeout`]:
          '"0ms" must be a duration like "500ms" or "2s", above 0 and shorter than 24 days',
      },
    ],
    [
      { url, timeout: "soon" },
      {
        [`${AT}.timeout`]:
          '"soon" must be a duration like "500ms" or "2s", above 0 and shorter than 24 days',
      },
    ],
    [{ url, timeout: 2000 }, { [`${AT}.timeout`]: "expected a string, got 2000" }],
    [
      { url, timout: "1s" },
      { [`${AT}.timout`]: 'unknown key "timout"; did you mean "timeout"?' },
    ],
  ];
  for (const [options, expected] of cases) {
    assert.deepEqual(errorsFor(options), expected, JSON.stringify(options));
  }
});

Deno.test("valid options keep their plain-data shape after validation", () => {
  const options: ForwardAuthOptions = {
    url: "https://auth.internal/verify",
    method: "HEAD",
    requestHeaders: ["authorization"],
    responseHeaders: ["x-user-id", "x-user-roles"],
    subjectHeader: "x-user-id",
    timeout: "500ms",
  };
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [forwardAuth(options)] }],
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  assert.deepEqual(result.config.routes[0].use[0].descriptor, { kind: "forwardAuth", options });
});
