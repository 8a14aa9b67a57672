/**
 * The traffic decision of one route, built once per snapshot: which upstream a request goes to.
 * Canary rules first, in order (the first that matches wins); then the split (sticky by key
 * when the request has one, else weighted round-robin); else the route's `upstream`.
 *
 * Every possible outcome is a choice object built here, so choosing allocates nothing beyond
 * the request view that canary rules and sticky keys read (and only routes with those build it).
 */
import type { NormalizedRoute } from "../config/normalized.ts";
import { editableRequestHeaders, type ProxyState } from "../proxy/state.ts";
import { CanaryMatcher } from "./canary.ts";
import type { TrafficRegistry } from "./registry.ts";
import { TrafficSplit } from "./split.ts";
import { RequestTrafficInput, type TrafficInput } from "./traffic_input.ts";

/** One outcome of a decision. `T` is what the caller forwards to (an upstream runtime). */
export interface TrafficChoice<T> {
  /** The upstream's name. */
  readonly upstream: string;
  /** Which part of the decision chose it: `canary[0]`, `split/sticky`, `split/round-robin`. */
  readonly rule: string;
  /** The color sent upstream, when a colored canary rule chose it. */
  readonly color: string | undefined;
  readonly runtime: T;
}

/**
 * Whether a route needs a decision at all (a plain `upstream` route does not). A forwarding
 * route with a color header needs one even without canary rules (all deleted in a rollback):
 * the gateway owns that header, so the client's value must still be removed.
 */
export function hasTrafficDecision(route: NormalizedRoute): boolean {
  return route.split !== undefined || route.canary !== undefined ||
    (route.color !== undefined && route.redirect === undefined);
}

/** A route's compiled decision. */
export class TrafficDecision<T> {
  readonly #canaries: readonly { matcher: CanaryMatcher; choice: TrafficChoice<T> }[];
  readonly #split: TrafficSplit | undefined;
  /** Split outcomes by target index, by how they were reached. */
  readonly #sticky: readonly TrafficChoice<T>[];
  readonly #inTurn: readonly TrafficChoice<T>[];
  readonly #fallback: TrafficChoice<T> | undefined;
  readonly #colorHeader: string | undefined;
  /** Whether choosing reads the request (canary rules or a sticky key). */
  readonly #readsRequest: boolean;

  /**
   * `resolve` maps an upstream name to what requests are forwarded to; every name the route
   * uses was validated to exist.
   */
  constructor(route: NormalizedRoute, registry: TrafficRegistry, resolve: (name: string) => T) {
    const choice = (upstream: string, rule: string, color?: string): TrafficChoice<T> =>
      Object.freeze({ upstream, rule, color, runtime: resolve(upstream) });
    this.#canaries = (route.canary ?? []).map((rule, i) => ({
      matcher: new CanaryMatcher(rule),
      choice: choice(rule.upstream, `canary[${i}]`, rule.color ?? undefined),
    }));
    const split = route.split;
    if (split) {
      this.#split = new TrafficSplit(split, registry.roundRobin(route.name, split));
      this.#sticky = split.targets.map((t) => choice(t.upstream, "split/sticky"));
      this.#inTurn = split.targets.map((t) => choice(t.upstream, "split/round-robin"));
    } else {
      this.#sticky = this.#inTurn = [];
    }
    this.#fallback = route.upstream !== undefined ? choice(route.upstream, "upstream") : undefined;
    if (!this.#split && !this.#fallback) {
      throw new Error(`route "${route.name}" has neither a split nor an upstream`);
    }
    this.#colorHeader = route.color?.header;
    this.#readsRequest = this.#canaries.length > 0 || split?.sticky != null;
  }

  /**
   * Chooses the upstream for a request at the end of its policy chain, records it on `state`,
   * and sets (or clears) the route's color header for the upstream.
   */
  choose(req: Request, state: ProxyState): TrafficChoice<T> {
    const input = this.#readsRequest ? new RequestTrafficInput(req, state) : undefined;
    const choice = this.#decide(input);
    state.upstream = choice.upstream;
    if (this.#colorHeader !== undefined) colorRequest(this.#colorHeader, choice.color, req, state);
    return choice;
  }

  #decide(input: TrafficInput | undefined): TrafficChoice<T> {
    if (input !== undefined) {
      const canaries = this.#canaries;
      for (let i = 0; i < canaries.length; i++) {
        if (canaries[i].matcher.test(input)) return canaries[i].choice;
      }
    }
    const split = this.#split;
    if (split === undefined) return this.#fallback!;
    const key = input === undefined ? undefined : split.keyOf(input);
    return key === undefined ? this.#inTurn[split.nextInTurn()] : this.#sticky[split.sideOf(key)];
  }
}

/**
 * The color header belongs to the gateway on a route that configures one: set to the rule's
 * color, or removed when no colored rule took the request, so a client cannot dye its own
 * traffic by sending the header.
 */
function colorRequest(
  header: string,
  color: string | undefined,
  req: Request,
  state: ProxyState,
): void {
  if (color !== undefined) editableRequestHeaders(state, req.headers).set(header, color);
  else if ((state.requestHeaders ?? req.headers).has(header)) {
    editableRequestHeaders(state, req.headers).delete(header);
  }
}
