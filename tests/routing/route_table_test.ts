/**
 * Route matching: path shapes, the other conditions, and first-match in declared order whatever
 * the index does. The last test checks the index against a plain scan of every route over
 * thousands of seeded random tables and requests, so a route the index fails to offer (or offers
 * out of order) shows up as a different answer.
 */
import assert from "node:assert/strict";
import type { NormalizedRoute } from "../../src/config/normalized.ts";
import { type MatchInput, matchInput } from "../../src/routing/request_view.ts";
import { type RouteMatch, RouteTable } from "../../src/routing/route_table.ts";
import { seededRandom } from "../helpers/random.ts";

type MatchRules = Partial<NormalizedRoute["match"]>;

function route(index: number, path: string, extra: MatchRules = {}): NormalizedRoute {
  return {
    index,
    name: `r${index}`,
    match: { hosts: [], path, methods: [], headers: {}, query: {}, ...extra },
    upstream: "api",
    use: [],
    retryNonIdempotent: false,
  };
}

function tableOf(...specs: (string | [string, MatchRules])[]): RouteTable {
  return new RouteTable(
    specs.map((spec, i) => typeof spec === "string" ? route(i, spec) : route(i, ...spec)),
  );
}

function request(url: string, method = "GET", headers: Record<string, string> = {}): MatchInput {
  return matchInput(method, url, new Headers(headers));
}

/** The name of the route that takes `url`, or null. */
function winner(table: RouteTable, url: string, method = "GET", headers = {}): string | null {
  return table.match(request(url, method, headers))?.route.config.name ?? null;
}

Deno.test("exact, prefix and param paths take what they say and nothing more", () => {
  const t = tableOf("/", "/health", "/api/*", "/users/:id", "/files/:name/raw");
  assert.equal(winner(t, "http://x/"), "r0");
  assert.equal(winner(t, "http://x/health"), "r1");
  assert.equal(winner(t, "http://x/health/"), null, "an exact path takes no trailing slash");
  assert.equal(winner(t, "http://x/healthz"), null);
  assert.equal(winner(t, "http://x/api"), "r2", "a prefix takes its own path");
  assert.equal(winner(t, "http://x/api/"), "r2");
  assert.equal(winner(t, "http://x/api/v1/things"), "r2");
  assert.equal(winner(t, "http://x/apix"), null, "segments compare whole");
  assert.equal(winner(t, "http://x/users/7"), "r3");
  assert.equal(winner(t, "http://x/users/"), null, "a param never takes an empty segment");
  assert.equal(winner(t, "http://x/users/7/more"), null);
  assert.equal(winner(t, "http://x/files/a.txt/raw"), "r4");
});

Deno.test("params are captured, and a constraint decides between routes", () => {
  const t = tableOf("/users/:id{[0-9]+}", "/users/:name", "/:tenant/orders/:order");
  const byId = t.match(request("http://x/users/42"));
  assert.equal(byId?.route.config.name, "r0");
  assert.deepEqual(byId?.params, { id: "42" });
  const byName = t.match(request("http://x/users/ada"));
  assert.equal(byName?.route.config.name, "r1");
  assert.deepEqual(byName?.params, { name: "ada" });
  assert.deepEqual(t.match(request("http://x/acme/orders/9"))?.params, {
    tenant: "acme",
    order: "9",
  });
});

Deno.test("the first declared route wins, whichever of them the index reaches first", () => {
  // A param route declared before a literal one takes the request; the literal one then only
  // gets what the param route refuses.
  const t = tableOf(
    ["/:tenant/status", { methods: ["POST"] }],
    "/acme/status",
    "/:tenant/*",
    "/acme/*",
  );
  assert.equal(winner(t, "http://x/acme/status", "POST"), "r0");
  assert.equal(winner(t, "http://x/acme/status", "GET"), "r1");
  assert.equal(winner(t, "http://x/acme/other"), "r2");
  assert.equal(winner(t, "http://x/globex/status"), "r2");
  const prefixFirst = tableOf("/api/*", "/api/users/:id");
  assert.equal(winner(prefixFirst, "http://x/api/users/1"), "r0");
});

Deno.test("host, method, header and query conditions all have to hold", () => {
  const t = tableOf(
    ["/*", { hosts: ["api.example.com"] }],
    ["/*", { hosts: ["*.example.com"], methods: ["PUT"] }],
    ["/*", { headers: { "x-env": "canary" } }],
    ["/*", { headers: { "x-tenant": { regex: "^t-[0-9]+$" } } }],
    ["/*", { headers: { authorization: { present: true } } }],
    ["/*", { query: { debug: "1" } }],
    ["/*", { headers: { cookie: { present: false } } }],
  );
  assert.equal(winner(t, "http://API.example.com:8080/x"), "r0", "host is case- and port-blind");
  assert.equal(winner(t, "http://eu.example.com/x", "PUT"), "r1");
  assert.equal(winner(t, "http://example.com/x", "PUT", { cookie: "a=1" }), null);
  assert.equal(winner(t, "http://other/x", "GET", { "x-env": "canary", cookie: "a" }), "r2");
  assert.equal(winner(t, "http://other/x", "GET", { "x-tenant": "t-12", cookie: "a" }), "r3");
  assert.equal(winner(t, "http://other/x", "GET", { "x-tenant": "t-x", cookie: "a" }), null);
  assert.equal(
    winner(t, "http://other/x", "GET", { authorization: "Bearer a", cookie: "a" }),
    "r4",
  );
  assert.equal(winner(t, "http://other/x?debug=1", "GET", { cookie: "a" }), "r5");
  assert.equal(winner(t, "http://other/x?debug=2"), "r6");
});

Deno.test("a GET route also takes HEAD", () => {
  const t = tableOf(["/r", { methods: ["GET"] }]);
  assert.equal(winner(t, "http://x/r", "HEAD"), "r0");
  assert.equal(winner(t, "http://x/r", "POST"), null);
});

/** The answer without the index: every route in declared order. */
function scanAll(table: RouteTable, input: MatchInput): RouteMatch | null {
  for (const route of table.routes) {
    const params = route.path.match(input.segments);
    if (params !== null && route.conditions.every((c) => c.test(input))) {
      return { route, params };
    }
  }
  return null;
}

Deno.test("the index answers as a scan of every route would, on random tables", () => {
  const random = seededRandom(20261123);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const literals = ["a", "b", "api", "v1"];
  // A pattern has no empty segment but a trailing one: requests have doubled slashes merged.
  const patternSegments = [...literals, ":p", ":n{[0-9]+}"];
  const requestSegments = [...literals, "", "7", "42", "x"];
  const methods = ["GET", "POST", "HEAD"];
  let matched = 0;
  let compared = 0;
  for (let t = 0; t < 300; t++) {
    const routes: NormalizedRoute[] = [];
    const count = 1 + Math.floor(random() * 12);
    for (let i = 0; i < count; i++) {
      const depth = Math.floor(random() * 4);
      const names = new Set<string>();
      const segments = Array.from({ length: depth }, (_, k) => {
        const seg = pick(patternSegments);
        // Param names must be distinct within a pattern.
        if (!seg.startsWith(":")) return seg;
        const name = `${seg.slice(1, 2)}${k}`;
        names.add(name);
        return `:${name}${seg.slice(2)}`;
      });
      const tail = random() < 0.35 ? ["*"] : random() < 0.2 ? [""] : [];
      const path = "/" + [...segments, ...tail].join("/");
      routes.push(route(i, path, random() < 0.3 ? { methods: [pick(methods)] } : {}));
    }
    const table = new RouteTable(routes);
    for (let r = 0; r < 40; r++) {
      const depth = 1 + Math.floor(random() * 4);
      const path = "/" + Array.from({ length: depth }, () => pick(requestSegments)).join("/");
      const input = request(`http://x${path}`, pick(methods));
      const got = table.match(input);
      const want = scanAll(table, input);
      compared++;
      if (want !== null) matched++;
      assert.equal(
        got?.route.config.name ?? null,
        want?.route.config.name ?? null,
        `${input.method} ${path} against ${routes.map((x) => x.match.path).join(" ")}`,
      );
      assert.deepEqual(got?.params ?? null, want?.params ?? null);
    }
  }
  // The draws must exercise both outcomes, or the comparison proves little.
  assert.ok(matched > compared / 4 && matched < compared, `${matched} of ${compared} matched`);
});
