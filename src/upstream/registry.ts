/**
 * Upstream runtimes that outlive a snapshot. An upstream whose normalized config is unchanged
 * is handed to the next snapshot as the same object: its connection pools, balancer position
 * and target state carry over. Changed or removed upstreams are retired.
 */
import type { NormalizedUpstream } from "../config/normalized.ts";
import { createBalancer } from "./balancers/create.ts";
import { Http1Client } from "./http1/client.ts";
import { ignoreUpstreamEvents, type UpstreamEvents } from "./resilience/events.ts";
import { Target } from "./target.ts";
import { UpstreamRuntime } from "./upstream.ts";

/** Keeps upstream runtimes by name and config. */
export class UpstreamRegistry {
  /** Every runtime not yet retired, with the config key it was built from. */
  readonly #open = new Map<UpstreamRuntime, string>();
  /** By name, the runtime the latest snapshot (or the one being built) uses. */
  readonly #current = new Map<string, UpstreamRuntime>();

  /** `events` hears every upstream's retries, ejections, health and circuit changes. */
  constructor(private readonly events: UpstreamEvents = ignoreUpstreamEvents) {}

  /** The runtime for `config`: the existing one when its config is unchanged, else a new one. */
  obtain(config: NormalizedUpstream): UpstreamRuntime {
    const key = JSON.stringify(config);
    const existing = this.#current.get(config.name);
    if (existing && this.#open.get(existing) === key) return existing;
    const targets = config.targets.map((t) => new Target(t.url, t.weight));
    if (existing) keepHealthVerdicts(existing, config, targets);
    const runtime = new UpstreamRuntime(
      config,
      targets,
      createBalancer(config.balancer, targets),
      new Http1Client({
        maxIdlePerTarget: config.pool.maxIdlePerTarget,
        idleTimeoutMs: config.pool.idleTimeoutMs,
        tls: config.tls,
      }),
      this.events,
    );
    // The runtime it replaces stays open (the serving snapshot still uses it) until
    // `retainOnly` retires it.
    this.#current.set(config.name, runtime);
    this.#open.set(runtime, key);
    return runtime;
  }

  /**
   * Makes `keep` (the upstreams of the snapshot now serving) the current runtimes, and returns
   * every other open one: those a reload replaced or removed, for the caller to close once the
   * snapshots using them have drained, or those a build that failed created, to close now.
   */
  retainOnly(keep: ReadonlySet<UpstreamRuntime>): UpstreamRuntime[] {
    const retired: UpstreamRuntime[] = [];
    for (const runtime of this.#open.keys()) {
      if (!keep.has(runtime)) {
        retired.push(runtime);
        this.#open.delete(runtime);
      }
    }
    this.#current.clear();
    for (const runtime of keep) this.#current.set(runtime.config.name, runtime);
    return retired;
  }

  /** The current runtimes (admin `/upstreams`, metrics). */
  runtimes(): IterableIterator<UpstreamRuntime> {
    return [...this.#current.values()].values();
  }

  /**
   * Closes every open runtime (shutdown, after the drain): requests still waiting on an
   * upstream end now, with a 502, instead of holding their connections until their timeouts.
   */
  closeAll(): void {
    for (const runtime of this.#open.keys()) runtime.abortInFlight();
    this.#open.clear();
    this.#current.clear();
  }
}

/**
 * Carries "failing health checks" over to the new targets of a changed upstream whose health
 * check did not change. A weight or timeout change must not put a target known to be down back
 * into rotation until it fails fresh probes; it comes back by passing `healthyThreshold` of them,
 * as before. Under a changed health check the old verdicts no longer apply: all start healthy.
 */
function keepHealthVerdicts(
  previous: UpstreamRuntime,
  config: NormalizedUpstream,
  targets: readonly Target[],
): void {
  if (config.healthCheck === null) return;
  if (JSON.stringify(previous.config.healthCheck) !== JSON.stringify(config.healthCheck)) return;
  for (const target of targets) {
    const before = previous.targets.find((t) => t.url === target.url);
    if (before === undefined || before.passingHealthChecks) continue;
    target.passingHealthChecks = false;
    target.refresh();
  }
}
