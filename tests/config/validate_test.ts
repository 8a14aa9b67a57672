import assert from "node:assert/strict";
import type { ConfigIssue, NormalizedConfig } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

/** A small valid config; each test changes one thing. */
function base(): Record<string, unknown> & { routes: Record<string, unknown>[] } {
  return {
    upstreams: {
      users: { targets: ["http://127.0.0.1:3001"] },
      orders: { targets: ["http://127.0.0.1:3002"] },
    },
    routes: [{ name: "users", match: { path: "/users/*" }, upstream: "users" }],
  };
}

/** A fresh `base()` with `change` applied. */
function variant(change: (c: ReturnType<typeof base>) => void) {
  const config = base();
  change(config);
  return config;
}

function errorsOf(input: unknown): ConfigIssue[] {
  const result = validateConfig(input);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

function valid(input: unknown): NormalizedConfig {
  const result = validateConfig(input);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${JSON.stringify(result.errors)}`);
  return result.config;
}

/** Exactly one error, at `path`, whose message contains every fragment. */
function assertOneError(input: unknown, path: string, ...fragments: string[]) {
  const errors = errorsOf(input);
  assert.deepEqual(errors.map((e) => e.path), [path], JSON.stringify(errors));
  for (const f of fragments) assert.ok(errors[0].message.includes(f), errors[0].message);
}

const upstream = (target: unknown) =>
  variant((c) => {
    (c.upstreams as Record<string, unknown>).users = { targets: [target] };
  });

Deno.test("a minimal config gets every documented default", () => {
  const config = valid({
    upstreams: { api: { targets: ["http://127.0.0.1:3000/"] } },
    routes: [{ upstream: "api" }],
  });
  assert.deepEqual(config, {
    listen: { hostname: "127.0.0.1", port: 8080 },
    admin: { enabled: true, hostname: "127.0.0.1", port: 9901 },
    upstreams: {
      api: {
        name: "api",
        targets: [{ url: "http://127.0.0.1:3000", weight: 1 }],
        balancer: { type: "round_robin" },
        host: "preserve",
        timeouts: { connectMs: 5000, perTryMs: 30000, totalMs: 30000, idleMs: 60000 },
        pool: { maxIdlePerTarget: 128, idleTimeoutMs: 60000 },
        tls: { caCerts: [], serverName: null },
        healthCheck: null,
        outlierDetection: {
          consecutiveFailures: 5,
          baseEjectionMs: 30000,
          maxEjectionMs: 300000,
          maxEjectedPercent: 50,
          slowStartMs: 10000,
        },
        circuitBreaker: {
          failurePercent: 50,
          minRequests: 20,
          windowMs: 10000,
          openForMs: 5000,
          maxOpenForMs: 60000,
          halfOpenProbes: 3,
        },
        retries: {
          maxRetries: 2,
          on: { connect: true, reset: true, timeout: false, statuses: [502, 503, 504] },
          backoffBaseMs: 25,
          backoffMaxMs: 250,
          budgetPercent: 20,
          budgetMinPerSecond: 3,
          maxBufferedBodyBytes: 65536,
        },
      },
    },
    policies: {},
    routes: [{
      index: 0,
      name: "route-0",
      match: { hosts: [], path: "/*", methods: [], headers: {}, query: {} },
      upstream: "api",
      use: [],
      retryNonIdempotent: false,
    }],
    trust: { proxies: [] },
    accessLog: { to: "off", sample: 1 },
    coloring: { headers: [] },
    limits: { maxBodyBytes: 10485760, drainTimeoutMs: 10000 },
    reload: { debounceMs: 100, streamGraceMs: 30000 },
  });
});

Deno.test("demo defaults to 127.0.0.1:3000 when present, and is absent otherwise", () => {
  assert.deepEqual(valid({ ...base(), demo: {} }).demo, { hostname: "127.0.0.1", port: 3000 });
  assert.deepEqual(valid({ ...base(), demo: { listen: { port: 0 } } }).demo, {
    hostname: "127.0.0.1",
    port: 0,
  });
  assert.equal("demo" in valid(base()), false);
});

Deno.test("match lists: hosts lower-cased, methods upper-cased, header names lower-cased", () => {
  const config = valid(variant((c) => {
    c.routes[0].match = {
      host: "API.Example.com",
      method: ["get", "Post", "GET"],
      headers: { "X-Env": "prod" },
      query: { Debug: { present: true } },
    };
  }));
  assert.deepEqual(config.routes[0].match, {
    hosts: ["api.example.com"],
    path: "/*",
    methods: ["GET", "POST"],
    headers: { "x-env": "prod" },
    query: { Debug: { present: true } },
  });
});

Deno.test("three mistakes in different places are all reported, each at its exact path", () => {
  const errors = errorsOf(variant((c) => {
    (c.upstreams as Record<string, unknown>).users = { targets: ["http://127.0.0.1:3001/api"] };
    c.routes[0].upstream = "userz";
    c.routes.push({ match: { path: "/a*" }, upstream: "orders" });
  }));
  assert.deepEqual(errors.map((e) => e.path), [
    "routes[0].upstream",
    "routes[1].match.path",
    "upstreams.users.targets[0]",
  ]);
});

Deno.test("an unknown key is reported at its own path with the nearest known key", () => {
  const { upstreams: _, ...rest } = base();
  const errors = errorsOf({ ...rest, upstreem: base().upstreams });
  assert.deepEqual(errors.map((e) => e.path), ["upstreams", "upstreem"]);
  assert.match(errors[0].message, /^missing: expected an object of upstreams/);
  assert.equal(errors[1].message, 'unknown key "upstreem"; did you mean "upstreams"?');
});

Deno.test("nested unknown keys are errors too, including inside a target object", () => {
  assertOneError(
    upstream({ url: "http://127.0.0.1:3001", wieght: 2 }),
    "upstreams.users.targets[0].wieght",
    'did you mean "weight"?',
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { paht: "/x" })),
    "routes[0].match.paht",
    'did you mean "path"?',
  );
});

Deno.test("upstream names that are not identifiers are quoted in paths", () => {
  const errors = errorsOf({
    upstreams: { "my-api": { targets: ["127.0.0.1:3000"] } },
    routes: [{ upstream: "my-api" }],
  });
  assert.equal(errors[0].path, 'upstreams["my-api"].targets[0]');
  assert.match(errors[0].message, /add the scheme, as in "http:\/\/127\.0\.0\.1:3000"/);
});

Deno.test("type mistakes say what was found and what was expected", () => {
  assertOneError(variant((c) => (c.listen = { port: "8080" })), "listen.port", 'got "8080"');
  assertOneError(variant((c) => (c.routes = {} as never)), "routes", "a list of routes");
  assertOneError(
    variant((c) => c.routes.push(7 as never)),
    "routes[1]",
    "expected a route object, got 7",
  );
});

Deno.test("target URLs must be http(s) origins; a trailing slash is fine", () => {
  assertOneError(upstream("127.0.0.1:3001"), "upstreams.users.targets[0]", "add the scheme");
  assertOneError(upstream("ftp://127.0.0.1"), "upstreams.users.targets[0]", "http:// or https://");
  assertOneError(
    upstream("http://127.0.0.1:3001/api"),
    "upstreams.users.targets[0]",
    'has the path "/api"',
    'rewrite({ addPrefix: "/api" })',
  );
  assertOneError(upstream("http://127.0.0.1:3001/?x=1"), "upstreams.users.targets[0]", "query");
  assertOneError(upstream("http://u:p@127.0.0.1"), "upstreams.users.targets[0]", "credentials");
  assertOneError(upstream("http://127.0.0.1:70000"), "upstreams.users.targets[0]", "70000");
  assertOneError(upstream({ url: "http://a b" }), "upstreams.users.targets[0].url", "valid URL");

  const config = valid(variant((c) => {
    (c.upstreams as Record<string, unknown>).users = {
      // Ferry's own client takes any port, with or without TLS (fetch refuses the ports
      // browsers block, such as X11's 6000).
      targets: [
        "HTTP://Example.COM:80/",
        { url: "https://127.0.0.1:8443", weight: 3 },
        "http://127.0.0.1:6000",
        "https://127.0.0.1:6000",
      ],
    };
  }));
  assert.deepEqual(config.upstreams.users.targets, [
    { url: "http://example.com", weight: 1 },
    { url: "https://127.0.0.1:8443", weight: 3 },
    { url: "http://127.0.0.1:6000", weight: 1 },
    { url: "https://127.0.0.1:6000", weight: 1 },
  ]);
});

Deno.test("an upstream needs a target, and the same origin only once", () => {
  assertOneError(
    variant((c) => ((c.upstreams as Record<string, unknown>).users = { targets: [] })),
    "upstreams.users.targets",
    "at least one target",
  );
  assertOneError(
    variant((c) => {
      (c.upstreams as Record<string, unknown>).users = {
        targets: ["http://127.0.0.1:3001", "http://127.0.0.1:3001/"],
      };
    }),
    "upstreams.users.targets[1]",
    "already targets[0]",
  );
});

Deno.test("ports are whole numbers from 0 to 65535", () => {
  for (const port of [70000, -1, 1.5, Number.NaN]) {
    assertOneError(variant((c) => (c.listen = { port })), "listen.port", "0 to 65535");
  }
  assert.equal(valid(variant((c) => (c.listen = { port: 0 }))).listen.port, 0);
  assert.equal(valid(variant((c) => (c.admin = { port: 65535 }))).admin.port, 65535);
});

Deno.test("weights are positive finite numbers", () => {
  for (const weight of [0, -2, Infinity]) {
    assertOneError(
      upstream({ url: "http://127.0.0.1:3001", weight }),
      "upstreams.users.targets[0].weight",
      "expected a positive number",
    );
  }
  const config = valid(upstream({ url: "http://127.0.0.1:3001", weight: 0.5 }));
  assert.equal(config.upstreams.users.targets[0].weight, 0.5);
});

Deno.test("durations are at most what a timer can wait; a health-check interval is above 0", () => {
  const users = (extra: Record<string, unknown>) =>
    variant((c) => ((c.upstreams as Record<string, unknown>).users = {
      targets: ["http://127.0.0.1:3001"],
      ...extra,
    }));
  assertOneError(
    users({ pool: { idleTimeout: "1000h" } }),
    "upstreams.users.pool.idleTimeout",
    'expected a duration of at most 596h (what a timer can wait), got "1000h"',
  );
  assertOneError(
    users({ healthCheck: { path: "/healthz", interval: "0s" } }),
    "upstreams.users.healthCheck.interval",
    'expected a duration above 0, got "0s"',
  );
  const config = valid(users({
    pool: { idleTimeout: "596h" },
    healthCheck: { path: "/healthz", interval: "1ms" },
  }));
  assert.equal(config.upstreams.users.pool.idleTimeoutMs, 596 * 3_600_000);
  assert.equal(config.upstreams.users.healthCheck?.intervalMs, 1);
});

Deno.test("durations must parse, and become milliseconds", () => {
  assertOneError(
    variant((c) => ((c.upstreams as Record<string, unknown>).users = {
      targets: ["http://127.0.0.1:3001"],
      timeouts: { connect: "5 seconds" },
    })),
    "upstreams.users.timeouts.connect",
    'expected a duration like "250ms" or "5s", got "5 seconds"',
  );
  assertOneError(
    variant((c) => (c.limits = { drainTimeout: 10 })),
    "limits.drainTimeout",
    "got 10",
  );
  const config = valid(variant((c) => {
    (c.upstreams as Record<string, unknown>).users = {
      targets: ["http://127.0.0.1:3001"],
      timeouts: { connect: "250ms", total: "1.5s", idle: "2m" },
      pool: { maxIdlePerTarget: 0, idleTimeout: "1h" },
    };
  }));
  assert.deepEqual(config.upstreams.users.timeouts, {
    connectMs: 250,
    perTryMs: 1500,
    totalMs: 1500,
    idleMs: 120000,
  });
  assert.deepEqual(config.upstreams.users.pool, { maxIdlePerTarget: 0, idleTimeoutMs: 3600000 });
});

Deno.test("listen hostnames are non-empty, without scheme or path", () => {
  assertOneError(variant((c) => (c.listen = { hostname: "" })), "listen.hostname", 'got ""');
  assertOneError(
    variant((c) => (c.admin = { hostname: "http://0.0.0.0" })),
    "admin.hostname",
    "no scheme or path",
  );
  assert.equal(valid(variant((c) => (c.admin = { hostname: "::1" }))).admin.hostname, "::1");
});

Deno.test("host match patterns are exact or *.suffix", () => {
  for (const host of ["a*.example.com", "*.", "api.*.com", "", "*example.com"]) {
    const errors = errorsOf(variant((c) => (c.routes[0].match = { host })));
    assert.deepEqual(errors.map((e) => e.path), ["routes[0].match.host"], host);
  }
  assertOneError(
    variant((c) => (c.routes[0].match = { host: ["ok.example.com", "bad*"] })),
    "routes[0].match.host[1]",
    '"*" is only allowed as a whole first label',
  );
  const config = valid(variant((c) => (c.routes[0].match = { host: ["*.Example.com", "a.b"] })));
  assert.deepEqual(config.routes[0].match.hosts, ["*.example.com", "a.b"]);
});

Deno.test("path patterns must compile, with the pattern compiler's message", () => {
  assertOneError(
    variant((c) => (c.routes[0].match = { path: "/api*" })),
    "routes[0].match.path",
    '"*" is only allowed as the whole last segment',
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { path: "users" })),
    "routes[0].match.path",
    'must start with "/"',
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { path: "/:id/:id" })),
    "routes[0].match.path",
    "appears twice",
  );
  const config = valid(variant((c) => (c.routes[0].match = { path: "/users/:id{[0-9]+}" })));
  assert.equal(config.routes[0].match.path, "/users/:id{[0-9]+}");
});

Deno.test("header and query regex rules must compile", () => {
  assertOneError(
    variant((c) => (c.routes[0].match = { headers: { "x-env": { regex: "(" } } })),
    'routes[0].match.headers["x-env"].regex',
    "not a valid regular expression",
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { query: { q: { regex: "[" } } })),
    "routes[0].match.query.q.regex",
    "not a valid regular expression",
  );
  const config = valid(variant((c) => (c.routes[0].match = { headers: { A: { regex: "^a+$" } } })));
  assert.deepEqual(config.routes[0].match.headers, { a: { regex: "^a+$" } });
});

Deno.test("header match rules take one known form and names are valid and distinct", () => {
  assertOneError(
    variant((c) => (c.routes[0].match = { headers: { "x-env": { equalz: "1" } } })),
    'routes[0].match.headers["x-env"]',
    "{ equals",
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { headers: { "x env": "1" } })),
    'routes[0].match.headers["x env"]',
    "header name",
  );
  assertOneError(
    variant((c) => (c.routes[0].match = { headers: { "X-Env": "1", "x-env": "2" } })),
    'routes[0].match.headers["x-env"]',
    "same header",
  );
});

Deno.test("method names are tokens, upper-cased in the output", () => {
  assertOneError(
    variant((c) => (c.routes[0].match = { method: ["GET", "GE T"] })),
    "routes[0].match.method[1]",
    'expected a method like "GET", got "GE T"',
  );
  assert.deepEqual(
    valid(variant((c) => (c.routes[0].match = { method: "patch" }))).routes[0].match.methods,
    ["PATCH"],
  );
});

Deno.test("a route has exactly one of upstream and redirect", () => {
  assertOneError(
    variant((c) => (c.routes[0].redirect = { to: "/elsewhere" })),
    "routes[0]",
    "found both",
  );
  assertOneError(variant((c) => delete c.routes[0].upstream), "routes[0]", "found neither");
  const config = valid(variant((c) => {
    delete c.routes[0].upstream;
    c.routes[0].redirect = { to: "/elsewhere" };
  }));
  assert.deepEqual(config.routes[0].redirect, { to: "/elsewhere", status: 308 });
  assert.equal("upstream" in config.routes[0], false);
});

Deno.test("a dangling upstream names the ones that exist and suggests the closest", () => {
  assertOneError(
    variant((c) => (c.routes[0].upstream = "userz")),
    "routes[0].upstream",
    'no upstream named "userz"',
    '"users", "orders"',
    'did you mean "users"?',
  );
  const far = errorsOf(variant((c) => (c.routes[0].upstream = "inventory")));
  assert.equal(far[0].message.includes("did you mean"), false, far[0].message);
  assertOneError(
    { upstreams: {}, routes: [{ upstream: "api" }] },
    "routes[0].upstream",
    "no upstreams are defined",
  );
});

Deno.test("a dangling policy reference suggests the closest policy name", () => {
  const withPolicy = (use: unknown[]) =>
    variant((c) => {
      c.policies = { auth: { kind: "headers", options: { request: { set: { "x-a": "1" } } } } };
      c.routes[0].use = use;
    });
  assertOneError(withPolicy(["atuh"]), "routes[0].use[0]", 'did you mean "auth"?');
  const config = valid(withPolicy(["auth"]));
  assert.deepEqual(config.routes[0].use, [{
    ref: "auth",
    descriptor: { kind: "headers", options: { request: { set: { "x-a": "1" } } } },
  }]);
  assertOneError(
    variant((c) => (c.routes[0].use = ["auth"])),
    "routes[0].use[0]",
    "no policies are defined",
  );
});

Deno.test("policies need a registered kind and options valid for it, wherever they appear", () => {
  assertOneError(
    variant((c) => (c.policies = { auth: { kind: "headers", options: { request: { set: 5 } } } })),
    "policies.auth.options.request.set",
    "got 5",
  );
  assertOneError(
    variant((c) => (c.routes[0].use = [{ kind: "hedaers", options: {} }])),
    "routes[0].use[0].kind",
    'unknown policy kind "hedaers"',
    'did you mean "headers"?',
  );
  assertOneError(
    variant((c) => (c.routes[0].use = [{ kind: "rewrite", options: { stripPrefx: "/a" } }])),
    "routes[0].use[0].options.stripPrefx",
    'did you mean "stripPrefix"?',
  );
  assertOneError(
    variant((c) => (c.routes[0].use = [{ kind: "rewrite" }])),
    "routes[0].use[0].options",
    "missing",
  );
  assertOneError(
    variant((c) => (c.routes[0].use = [{ kind: "rewrite", options: {}, extra: 1 }])),
    "routes[0].use[0].extra",
    "unknown key",
  );
  const config = valid(variant((c) => {
    c.routes[0].use = [{ kind: "rewrite", options: { stripPrefix: "/users" } }];
  }));
  assert.deepEqual(config.routes[0].use, [
    { descriptor: { kind: "rewrite", options: { stripPrefix: "/users" } } },
  ]);
});

Deno.test("route names are unique, default names included", () => {
  assertOneError(
    variant((c) => c.routes.push({ name: "users", upstream: "orders" })),
    "routes[1].name",
    'route name "users" is already used by routes[0]',
  );
  assertOneError(
    variant((c) => c.routes.push({ name: "route-2", upstream: "orders" }, { upstream: "orders" })),
    "routes[2]",
    'default name "route-2" is already used by routes[1]',
  );
  const config = valid(variant((c) => c.routes.push({ upstream: "orders" })));
  assert.deepEqual(config.routes.map((r) => r.name), ["users", "route-1"]);
});

Deno.test("trusted proxies are CIDRs or plain IPs", () => {
  for (const proxy of ["10.0.0.0/33", "banana", "300.1.1.1", "2001:db8::/129"]) {
    assertOneError(
      variant((c) => (c.trust = { proxies: ["10.0.0.0/8", proxy] })),
      "trust.proxies[1]",
      "expected a CIDR",
    );
  }
  const proxies = ["10.0.0.0/8", "192.168.1.1", "::1", "2001:db8::/32"];
  assert.deepEqual(valid(variant((c) => (c.trust = { proxies }))).trust.proxies, proxies);
});

Deno.test("a consistent_hash key has exactly one of header, cookie and clientIp", () => {
  const hashOn = (key: unknown) =>
    variant((c) => {
      (c.upstreams as Record<string, unknown>).users = {
        targets: ["http://127.0.0.1:3001"],
        balancer: { type: "consistent_hash", key },
      };
    });
  assertOneError(hashOn({}), "upstreams.users.balancer.key", "got none");
  assertOneError(
    hashOn({ header: "x-user", cookie: "sid" }),
    "upstreams.users.balancer.key",
    'got "header" and "cookie"',
  );
  assertOneError(hashOn({ clientIp: false }), "upstreams.users.balancer.key.clientIp", "true");
  assert.deepEqual(valid(hashOn({ header: "X-User" })).upstreams.users.balancer, {
    type: "consistent_hash",
    key: { header: "x-user" },
  });
  assertOneError(
    variant((c) => {
      (c.upstreams as Record<string, unknown>).users = {
        targets: ["http://127.0.0.1:3001"],
        balancer: { type: "random" },
      };
    }),
    "upstreams.users.balancer.type",
    'expected "round_robin", "least_request" or "consistent_hash", got "random"',
  );
});

Deno.test("a redirect goes to an absolute URL or a path starting with /", () => {
  const redirectTo = (to: string, status?: number) =>
    variant((c) => {
      delete c.routes[0].upstream;
      c.routes[0].redirect = status === undefined ? { to } : { to, status };
    });
  assertOneError(redirectTo("example.com/x"), "routes[0].redirect.to", "absolute URL");
  assertOneError(redirectTo("ftp://example.com"), "routes[0].redirect.to", "absolute URL");
  assertOneError(redirectTo("//evil.example"), "routes[0].redirect.to", "another host");
  assertOneError(redirectTo("/x", 200), "routes[0].redirect.status", "got 200");
  const config = valid(redirectTo("https://new.example.com{path}", 301));
  assert.deepEqual(config.routes[0].redirect, { to: "https://new.example.com{path}", status: 301 });
});

Deno.test("an access log file path is non-empty", () => {
  assertOneError(variant((c) => (c.accessLog = { to: { file: "" } })), "accessLog.to.file");
  assertOneError(variant((c) => (c.accessLog = { to: "stderr" })), "accessLog.to", '"stdout"');
  const config = valid(variant((c) => (c.accessLog = { to: { file: "/tmp/access.log" } })));
  assert.deepEqual(config.accessLog, { to: { file: "/tmp/access.log" }, sample: 1 });
});

Deno.test("a route that an earlier route covers is a warning; a narrower one is not", () => {
  const shadowed = validateConfig(variant((c) => {
    c.routes.push({ name: "user-detail", match: { path: "/users/:id" }, upstream: "orders" });
  }));
  assert.ok(shadowed.ok);
  assert.deepEqual(shadowed.warnings.map((w) => [w.severity, w.path]), [["warning", "routes[1]"]]);
  assert.match(shadowed.warnings[0].message, /"user-detail" can never match/);

  const fine = validateConfig(variant((c) => {
    c.routes.unshift({ name: "user-detail", match: { path: "/users/:id" }, upstream: "orders" });
  }));
  assert.ok(fine.ok);
  assert.deepEqual(fine.warnings, []);
});

Deno.test("bad input of any kind is reported, never thrown", () => {
  const cyclic: Record<string, unknown> = { upstreams: {} };
  cyclic.routes = [cyclic];
  const throwing = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
    ownKeys() {
      throw new Error("trap");
    },
  });
  const inputs = [undefined, null, 0, "config", [], () => ({}), Symbol("x"), 1n, cyclic, throwing];
  for (const input of inputs) {
    const errors = errorsOf(input);
    assert.ok(errors.length > 0);
    for (const e of errors) assert.equal(e.severity, "error");
  }
  assert.deepEqual(errorsOf(null), [
    { path: "", message: "expected a config object, got null", severity: "error" },
  ]);
  assert.deepEqual(errorsOf(cyclic).map((e) => e.path), [
    "routes[0]",
    "routes[0].routes",
    "routes[0].upstreams",
  ]);
});
