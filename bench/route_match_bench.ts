/**
 * Route matching cost with 10, 100 and 1,000 routes. The table is compiled once; each bench
 * iteration matches one request whose route sits at the end of the table (the worst case for
 * first-match) and one that matches nothing.
 */
import type { NormalizedRoute } from "../src/config/normalized.ts";
import { matchInput } from "../src/routing/request_view.ts";
import { RouteTable } from "../src/routing/route_table.ts";

function route(index: number, path: string, extra: Partial<NormalizedRoute["match"]> = {}) {
  return {
    index,
    name: `r${index}`,
    match: { hosts: [], path, methods: [], headers: {}, query: {}, ...extra },
    upstream: "api",
    use: [],
    retryNonIdempotent: false,
  } satisfies NormalizedRoute;
}

/** A realistic mix: service prefixes, params with constraints, methods and a host condition. */
function table(n: number): RouteTable {
  const routes: NormalizedRoute[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    if (kind === 0) routes.push(route(i, `/svc${i}/*`));
    else if (kind === 1) routes.push(route(i, `/svc${i}/items/:id{[0-9]+}`, { methods: ["GET"] }));
    else if (kind === 2) routes.push(route(i, `/svc${i}/users/:user/orders/:order`));
    else routes.push(route(i, `/svc${i}/*`, { hosts: ["*.example.com"] }));
  }
  return new RouteTable(routes);
}

const headers = new Headers({ "user-agent": "bench" });
for (const n of [10, 100, 1000]) {
  const t = table(n);
  const last = n - 3; // kind 1: a constrained param route near the end
  const hit = `http://api.example.com/svc${last}/items/42`;
  const miss = "http://api.example.com/nowhere/at/all";
  if (!t.match(matchInput("GET", hit, headers))) throw new Error("bench route must match");
  Deno.bench(`match hit, ${n} routes`, { group: "hit", baseline: n === 10 }, () => {
    t.match(matchInput("GET", hit, headers));
  });
  Deno.bench(`match miss, ${n} routes`, { group: "miss", baseline: n === 10 }, () => {
    t.match(matchInput("GET", miss, headers));
  });
}

// Routes sharing their first segment: the index walks deeper than one segment.
const shared = new RouteTable(
  Array.from({ length: 1000 }, (_, i) => route(i, `/api/v${i}/*`)),
);
Deno.bench("match hit, 1000 routes sharing the first segment", { group: "shape" }, () => {
  shared.match(matchInput("GET", "http://x/api/v999/thing", headers));
});

// Routes starting with a param: the index follows its param edge (before it had one, this case
// tested every route, ~36-48 µs a match).
const params = new RouteTable(
  Array.from({ length: 1000 }, (_, i) => route(i, `/:tenant/v${i}/*`)),
);
Deno.bench("match hit, 1000 routes starting with a param", { group: "shape" }, () => {
  params.match(matchInput("GET", "http://x/acme/v999/thing", headers));
});
