/**
 * What people are told about routing must be what routing does: `explain` names the route the
 * real match takes, a shadow warning only names routes that truly cannot match, and a host
 * written with a port or a trailing dot still matches the requests it names.
 */
import assert from "node:assert/strict";
import type { HeaderMatch } from "../../src/config/types.ts";
import type { NormalizedRoute } from "../../src/config/normalized.ts";
import { explain } from "../../src/routing/explain.ts";
import { type MatchInput, matchInput } from "../../src/routing/request_view.ts";
import { type CompiledRoute, RouteTable } from "../../src/routing/route_table.ts";
import { findShadowedRoutes } from "../../src/routing/shadow.ts";
import { normalize } from "../../src/server/gateway.ts";
import { seededRandom } from "../helpers/random.ts";

type MatchRules = Partial<NormalizedRoute["match"]>;

function route(index: number, match: MatchRules): NormalizedRoute {
  return {
    index,
    name: `r${index}`,
    match: { hosts: [], path: "/*", methods: [], headers: {}, query: {}, ...match },
    upstream: "api",
    use: [],
    retryNonIdempotent: false,
  };
}

function holds(r: CompiledRoute, input: MatchInput): boolean {
  return r.path.match(input.segments) !== null && r.conditions.every((c) => c.test(input));
}

/** Random tables and requests over small pools, so that routes overlap often. */
function randomCase(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const maybe = <T>(p: number, make: () => T): T | undefined => (random() < p ? make() : undefined);
  // No empty segment but a trailing one: requests have doubled slashes merged (`/a//b` is `/a/b`).
  const patternSegments = ["a", "b", ":p", ":n{[0-9]+}"];
  const headerRules: HeaderMatch[] = [
    "canary",
    { regex: "^c" },
    { present: true },
    { present: false },
  ];
  const routes: NormalizedRoute[] = [];
  const count = 1 + Math.floor(random() * 10);
  for (let i = 0; i < count; i++) {
    const depth = Math.floor(random() * 3);
    const segments = Array.from({ length: depth }, (_, k) => {
      const seg = pick(patternSegments);
      return seg.startsWith(":") ? `:${seg[1]}${k}${seg.slice(2)}` : seg;
    });
    const tail = random() < 0.4 ? ["*"] : random() < 0.2 ? [""] : [];
    const path = "/" + [...segments, ...tail].join("/");
    const hosts = maybe(0.3, () => [pick(["a.example", "*.example", "b.example"])]);
    const methods = maybe(0.3, () => [pick(["GET", "POST", "HEAD"])]);
    const header = maybe(0.3, () => pick(headerRules));
    const query = maybe(0.2, () => pick<HeaderMatch>(["1", { present: true }]));
    routes.push(route(i, {
      path,
      ...(hosts ? { hosts } : {}),
      ...(methods ? { methods } : {}),
      ...(header ? { headers: { "x-env": header } } : {}),
      ...(query ? { query: { debug: query } } : {}),
    }));
  }
  const request = () => {
    const depth = 1 + Math.floor(random() * 3);
    const path = "/" +
      Array.from({ length: depth }, () => pick(["a", "b", "", "7", "x"])).join("/");
    const host = pick(["a.example", "A.EXAMPLE:8080", "x.example", "b.example.", "other"]);
    const query = pick(["", "?debug=1", "?debug=2", "?debug"]);
    const env = pick([null, "canary", "cold"]);
    return matchInput(
      pick(["GET", "POST", "HEAD"]),
      `http://${host}${path}${query}`,
      new Headers(env === null ? {} : { "x-env": env }),
    );
  };
  return { routes, request };
}

Deno.test("explain names the route the real match takes, on random tables and requests", () => {
  const random = seededRandom(424242);
  let matched = 0, compared = 0;
  for (let t = 0; t < 300; t++) {
    const { routes, request } = randomCase(random);
    const table = new RouteTable(routes);
    for (let r = 0; r < 30; r++) {
      const input = request();
      const real = table.match(input);
      const told = explain(table, input);
      compared++;
      if (real) matched++;
      const where = `${input.method} ${input.host}${input.path}?${input.query} ` +
        `x-env=${input.header("x-env")} against ${JSON.stringify(routes.map((x) => x.match))}`;
      assert.equal(told.winner?.index, real?.route.config.index, where);
      assert.deepEqual(told.winner?.params, real?.params, where);
      // Every route before the winner is listed as refused, with a reason.
      const refused = told.verdicts.filter((v) => !v.matched);
      assert.equal(refused.length, told.winner?.index ?? routes.length, where);
      assert.ok(refused.every((v) => v.reasons.length > 0), where);
    }
  }
  assert.ok(matched > compared / 4 && matched < compared, `${matched} of ${compared} matched`);
});

Deno.test("a shadow warning never names a route some request can still reach", () => {
  const random = seededRandom(99);
  let warnings = 0, witnessed = 0;
  for (let t = 0; t < 400; t++) {
    const { routes, request } = randomCase(random);
    const table = new RouteTable(routes);
    const pairs = findShadowedRoutes(routes).map((issue) => {
      const [, b, a] = /^routes\[(\d+)\].*routes\[(\d+)\]/s.exec(`${issue.path} ${issue.message}`)!;
      return [Number(a), Number(b)];
    });
    warnings += pairs.length;
    for (let r = 0; r < 60; r++) {
      const input = request();
      for (const [a, b] of pairs) {
        if (!holds(table.routes[b], input)) continue;
        witnessed++;
        assert.ok(
          holds(table.routes[a], input),
          `routes[${b}] ${JSON.stringify(routes[b].match)} takes ${input.method} ` +
            `${input.host}${input.path}?${input.query}, but is reported shadowed by routes[${a}] ` +
            JSON.stringify(routes[a].match),
        );
      }
    }
  }
  assert.ok(warnings > 50 && witnessed > 50, `${warnings} warnings, ${witnessed} requests checked`);
});

Deno.test("obvious shadowing is reported: a param prefix, a wildcard host, GET before HEAD", () => {
  const shadowed = (a: MatchRules, b: MatchRules) =>
    findShadowedRoutes([route(0, a), route(1, b)]).map((issue) => issue.path);
  assert.deepEqual(shadowed({ path: "/:a/*" }, { path: "/x/y" }), ["routes[1]"]);
  assert.deepEqual(
    shadowed({ hosts: ["*.example.com"] }, { hosts: ["api.example.com", "*.eu.example.com"] }),
    ["routes[1]"],
  );
  assert.deepEqual(shadowed({ methods: ["GET"] }, { methods: ["HEAD"] }), ["routes[1]"]);
  // And not where the later route still gets requests.
  assert.deepEqual(shadowed({ hosts: ["*.example.com"] }, { hosts: ["example.com"] }), []);
  assert.deepEqual(shadowed({ methods: ["HEAD"] }, { methods: ["GET"] }), []);
  assert.deepEqual(shadowed({ path: "/:a/*" }, { path: "/*" }), []);
});

Deno.test("a host written with a port, a trailing dot or as bare IPv6 matches its requests", () => {
  const config = normalize({
    upstreams: { api: { targets: ["http://127.0.0.1:1"] } },
    routes: [
      { name: "local", match: { host: "localhost:8080", path: "/l" }, upstream: "api" },
      { name: "dotted", match: { host: "API.example.com.", path: "/d" }, upstream: "api" },
      { name: "v6", match: { host: "::1", path: "/6" }, upstream: "api" },
      { name: "wild", match: { host: "*.example.org.", path: "/w" }, upstream: "api" },
    ],
  });
  const table = new RouteTable(config.routes);
  const winner = (url: string) => table.match(matchInput("GET", url, new Headers()))?.route;
  assert.equal(winner("http://localhost:8080/l")?.config.name, "local");
  assert.equal(winner("http://api.example.com/d")?.config.name, "dotted");
  assert.equal(winner("http://api.example.com./d")?.config.name, "dotted");
  assert.equal(winner("http://[::1]:8080/6")?.config.name, "v6");
  assert.equal(winner("http://eu.example.org/w")?.config.name, "wild");
  assert.equal(winner("http://example.org/w"), undefined, "a wildcard needs one more label");
});
