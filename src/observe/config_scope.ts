/**
 * Which label values name something the served config has. Series labelled `route`, `upstream`
 * or `target` name config objects: once a reload removes one, its series must go, or a config
 * whose routes and targets are renamed often (a route per tenant, targets from an inventory)
 * grows `/metrics` without bound.
 */
import type { NormalizedConfig } from "../config/normalized.ts";
import type { SeriesScope } from "./hot_metrics.ts";

/** The `route` label of requests no route matched: always in scope. */
export const NO_ROUTE = "no_route";

/** The routes, upstreams and targets of one config, as label values. */
export class ConfigScope {
  readonly #routes = new Set<string>([NO_ROUTE]);
  readonly #upstreams = new Set<string>();
  /** `upstream\0target`: a target is in scope only under the upstream that lists it. */
  readonly #targets = new Set<string>();

  constructor(config: NormalizedConfig) {
    for (const route of config.routes) this.#routes.add(route.name);
    for (const upstream of Object.values(config.upstreams)) {
      this.#upstreams.add(upstream.name);
      for (const target of upstream.targets) this.#targets.add(`${upstream.name}\0${target.url}`);
    }
  }

  hasRoute(name: string): boolean {
    return this.#routes.has(name);
  }

  /**
   * The scope of a family with labels `labelNames`, or `undefined` when none of them names a
   * config object (such a family is bounded by other means).
   */
  forLabels(labelNames: readonly string[]): SeriesScope | undefined {
    const route = labelNames.indexOf("route");
    const upstream = labelNames.indexOf("upstream");
    const target = labelNames.indexOf("target");
    if (route < 0 && upstream < 0) return undefined;
    return (values) =>
      (route < 0 || this.#routes.has(values[route])) &&
      (upstream < 0 || this.#upstreams.has(values[upstream])) &&
      (target < 0 || upstream < 0 || this.#targets.has(`${values[upstream]}\0${values[target]}`));
  }
}
