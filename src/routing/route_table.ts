/**
 * The route table: every route compiled once per snapshot, plus a trie over the routes' path
 * segments so a request only tests the routes that could take it. Matching stays first-match in
 * declared order: the index only skips routes that cannot match.
 */
import type { NormalizedRoute } from "../config/normalized.ts";
import {
  type Condition,
  headerCondition,
  hostCondition,
  methodCondition,
  queryCondition,
} from "./conditions.ts";
import { compilePathPattern, type PathPattern } from "./path_pattern.ts";
import type { MatchInput } from "./request_view.ts";

/** A route ready to match: its config, its path pattern and its other conditions. */
export interface CompiledRoute {
  readonly config: NormalizedRoute;
  readonly path: PathPattern;
  /** Host first, then method, headers and query: cheapest and most selective first. */
  readonly conditions: readonly Condition[];
}

/** The route a request took and the path params it captured. */
export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly params: Record<string, string>;
}

/**
 * A trie over pattern segments: a literal segment is an edge by its text, a param (constrained
 * or not) the node's one `param` edge, which any non-empty request segment may take. A route is
 * listed at the node its last segment leads to: as `exact` when it takes only paths of that
 * depth, as `prefix` (`/api/*`) when it also takes everything below. A request walks every edge
 * its segments allow; the routes listed where it passes are all the routes that could take it.
 */
interface IndexNode {
  readonly children: Map<string, IndexNode>;
  param: IndexNode | null;
  /** Routes ending here that take only paths exactly this deep, in declared order. */
  readonly exact: number[];
  /** `/.../*` routes ending here, in declared order. */
  readonly prefix: number[];
}

function newNode(): IndexNode {
  return { children: new Map(), param: null, exact: [], prefix: [] };
}

/**
 * Compiled routes with the segment index.
 *
 * Before param edges, a table whose routes start with a param (`/:tenant/...`) tested every
 * route: 1,000 of them cost 36–48 µs a match here, 1.1–1.4 µs with them
 * (bench/route_match_bench.ts).
 */
export class RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly #root: IndexNode = newNode();
  /**
   * Scratch for one match: the candidate lists a request collects and a read position in each.
   * `match` is synchronous, so one table never runs two at once.
   */
  readonly #lists: (readonly number[])[] = [];
  readonly #positions: number[] = [];

  constructor(routes: readonly NormalizedRoute[]) {
    this.routes = routes.map(compileRoute);
    this.routes.forEach((route, i) => {
      let node = this.#root;
      for (const seg of route.path.segments) {
        if (seg.kind === "param") {
          node = node.param ??= newNode();
          continue;
        }
        let child = node.children.get(seg.value);
        if (!child) node.children.set(seg.value, child = newNode());
        node = child;
      }
      (route.path.prefix ? node.prefix : node.exact).push(i);
    });
  }

  /** The first route, in declared order, that takes this request; `null` when none does. */
  match(input: MatchInput): RouteMatch | null {
    const lists = this.#lists;
    const positions = this.#positions;
    lists.length = 0;
    this.#collect(this.#root, input.segments, 0);
    for (let i = 0; i < lists.length; i++) positions[i] = 0;
    // Merge the lists by route index: the first route that holds is the first declared.
    for (;;) {
      let best = -1;
      let bestIndex = Infinity;
      for (let i = 0; i < lists.length; i++) {
        const list = lists[i];
        if (positions[i] < list.length && list[positions[i]] < bestIndex) {
          best = i;
          bestIndex = list[positions[i]];
        }
      }
      if (best < 0) return null;
      positions[best]++;
      const route = this.routes[bestIndex];
      const params = route.path.match(input.segments);
      if (params !== null && allHold(route.conditions, input)) return { route, params };
    }
  }

  /** Adds the lists of every route `segments[depth..]` can still reach from `node`. */
  #collect(node: IndexNode, segments: readonly string[], depth: number): void {
    if (node.prefix.length > 0) this.#lists.push(node.prefix);
    if (depth === segments.length) {
      if (node.exact.length > 0) this.#lists.push(node.exact);
      return;
    }
    const segment = segments[depth];
    const child = node.children.get(segment);
    if (child !== undefined) this.#collect(child, segments, depth + 1);
    // A param never takes an empty segment (`/users/` has no :id).
    if (node.param !== null && segment !== "") this.#collect(node.param, segments, depth + 1);
  }
}

function allHold(conditions: readonly Condition[], input: MatchInput): boolean {
  for (let i = 0; i < conditions.length; i++) {
    if (!conditions[i].test(input)) return false;
  }
  return true;
}

/** Compiles one validated route. */
export function compileRoute(config: NormalizedRoute): CompiledRoute {
  const { match } = config;
  const conditions: Condition[] = [];
  if (match.hosts.length) conditions.push(hostCondition(match.hosts));
  if (match.methods.length) conditions.push(methodCondition(match.methods));
  for (const [name, rule] of Object.entries(match.headers)) {
    conditions.push(headerCondition(name, rule));
  }
  for (const [name, rule] of Object.entries(match.query)) {
    conditions.push(queryCondition(name, rule));
  }
  return { config, path: compilePathPattern(match.path), conditions };
}
