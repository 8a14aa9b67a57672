/**
 * Upstream runtimes that outlive a snapshot. An upstream whose normalized config is unchanged
 * is handed to the next snapshot as the same object: its connection pools, balancer position
 * and target state carry over. Changed or removed upstreams are retired.
 */
import type { NormalizedUpstream } from "../config/normalized.ts";
import { createBalancer } from "./balancers/create.ts";
import { FetchClient } from "./fetch_client.ts";
import { Http1Client } from "./http1/client.ts";
import { ignoreUpstreamEvents, type UpstreamEvents } from "./resilience/events.ts";
import { Target } from "./target.ts";
import { UpstreamRuntime } from "./upstream.ts";

/** Keeps upstream runtimes by name and config. */
export class UpstreamRegistry {
  readonly #live = new Map<string, { key: string; runtime: UpstreamRuntime }>();

  /** `events` hears every upstream's retries, ejections, health and circuit changes. */
  constructor(private readonly events: UpstreamEvents = ignoreUpstreamEvents) {}

  /** The runtime for `config`: the existing one when its config is unchanged, else a new one. */
  obtain(config: NormalizedUpstream): UpstreamRuntime {
    const key = JSON.stringify(config);
    const existing = this.#live.get(config.name);
    if (existing?.key === key) return existing.runtime;
    const targets = config.targets.map((t) => new Target(t.url, t.weight));
    const runtime = new UpstreamRuntime(
      config,
      targets,
      createBalancer(config.balancer, targets),
      new Http1Client({
        maxIdlePerTarget: config.pool.maxIdlePerTarget,
        idleTimeoutMs: config.pool.idleTimeoutMs,
      }),
      new FetchClient(),
      this.events,
    );
    this.#live.set(config.name, { key, runtime });
    return runtime;
  }

  /**
   * Forgets runtimes not in `keep` and returns them, so the caller can close them once the
   * snapshots using them have drained.
   */
  retainOnly(keep: ReadonlySet<UpstreamRuntime>): UpstreamRuntime[] {
    const retired: UpstreamRuntime[] = [];
    for (const [name, entry] of this.#live) {
      if (!keep.has(entry.runtime)) {
        retired.push(entry.runtime);
        this.#live.delete(name);
      }
    }
    return retired;
  }

  /** The live runtimes (admin `/upstreams`, metrics). */
  runtimes(): IterableIterator<UpstreamRuntime> {
    return [...this.#live.values()].map((e) => e.runtime).values();
  }

  /** Closes every runtime (shutdown). */
  closeAll(): void {
    for (const { runtime } of this.#live.values()) runtime.close();
    this.#live.clear();
  }
}
