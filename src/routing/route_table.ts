/**
 * The route table: every route compiled once per snapshot, plus an index on the leading literal
 * path segments so a request only tests the routes that could take it. Matching stays
 * first-match in declared order: the index only skips routes that cannot match.
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
 * A trie over the leading literal segments of route patterns. Each node holds, precomputed and
 * sorted, every route whose literal prefix is a prefix of the node's path: the deepest node a
 * request reaches lists exactly the routes that could take it.
 */
interface IndexNode {
  readonly children: Map<string, IndexNode>;
  /** Routes whose literal prefix ends exactly here. */
  readonly own: number[];
  /** Own routes merged with every ancestor's, in declared order (filled after building). */
  candidates: readonly number[];
}

function newNode(): IndexNode {
  return { children: new Map(), own: [], candidates: [] };
}

/** Compiled routes with the literal-prefix index. */
export class RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly #root: IndexNode = newNode();

  constructor(routes: readonly NormalizedRoute[]) {
    this.routes = routes.map(compileRoute);
    this.routes.forEach((route, i) => {
      let node = this.#root;
      for (const seg of route.path.segments) {
        if (seg.kind !== "literal") break;
        let child = node.children.get(seg.value);
        if (!child) node.children.set(seg.value, child = newNode());
        node = child;
      }
      node.own.push(i);
    });
    // Merge once here, so a match allocates nothing and walks at most the path's depth.
    const fill = (node: IndexNode, inherited: readonly number[]) => {
      node.candidates = mergeSorted(node.own, inherited);
      for (const child of node.children.values()) fill(child, node.candidates);
    };
    fill(this.#root, []);
  }

  /** The first route, in declared order, that takes this request; `null` when none does. */
  match(input: MatchInput): RouteMatch | null {
    let node = this.#root;
    const segments = input.segments;
    for (let i = 0; i < segments.length; i++) {
      const child = node.children.get(segments[i]);
      if (!child) break;
      node = child;
    }
    const candidates = node.candidates;
    for (let c = 0; c < candidates.length; c++) {
      const route = this.routes[candidates[c]];
      const params = route.path.match(segments);
      if (params === null) continue;
      if (allHold(route.conditions, input)) return { route, params };
    }
    return null;
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

function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}
