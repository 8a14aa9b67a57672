import type { NormalizedUpstream } from "../config/normalized.ts";
import type { Balancer } from "./balancers/balancer.ts";
import type { ExchangeTimeouts, UpstreamClient } from "./client.ts";
import type { UpstreamEvents } from "./resilience/events.ts";
import { Resilience } from "./resilience/resilience.ts";
import type { Target } from "./target.ts";

/**
 * One upstream at runtime: its targets, balancer, clients and resilience state. Built once per
 * snapshot, and carried whole into the next snapshot when its config did not change, so pools,
 * balancer positions, health and circuit state survive reloads.
 */
export class UpstreamRuntime {
  /** First-attempt timeouts; later attempts get what is left of `totalMs`. */
  readonly timeouts: ExchangeTimeouts;
  readonly resilience: Resilience;
  #closed = false;

  constructor(
    readonly config: NormalizedUpstream,
    readonly targets: readonly Target[],
    readonly balancer: Balancer,
    /** The pooled HTTP/1.1 client, for `http:` and `https:` targets alike. */
    readonly client: UpstreamClient,
    events: UpstreamEvents,
  ) {
    const t = config.timeouts;
    this.timeouts = { connectMs: t.connectMs, totalMs: t.perTryMs, idleMs: t.idleMs };
    this.resilience = new Resilience(
      config,
      targets,
      (target, signal) => this.#probe(target, signal),
      events,
    );
  }

  /** True once `close` ran: a reload retired this runtime, or the gateway shut down. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.resilience.close();
    this.client.close();
  }

  /** {@link close}, and every exchange still in flight ends at once (a shutdown's last step). */
  abortInFlight(): void {
    this.#closed = true;
    this.resilience.close();
    this.client.abortInFlight();
  }

  /** One active health probe: `GET path`, its status, the body discarded. */
  async #probe(target: Target, signal: AbortSignal): Promise<number> {
    const check = this.config.healthCheck!;
    const res = await this.client.send(target.address, {
      method: "GET",
      path: check.path,
      headers: ["host", probeHost(this.config, target), "user-agent", "ferry-health-check"],
      body: null,
      bodyLength: -1,
      signal,
    }, { connectMs: check.timeoutMs, totalMs: check.timeoutMs, idleMs: check.timeoutMs });
    if (res.body instanceof ReadableStream) await res.body.cancel();
    return res.status;
  }
}

/**
 * The Host of a health probe: `healthCheck.host`, else the upstream's literal `host` (the vhost
 * real traffic goes to: a backend that routes by Host would answer probes on any other one from
 * its default site, and fail them), else the target's `host:port` (there is no client Host to
 * preserve).
 */
function probeHost(config: NormalizedUpstream, target: Target): string {
  const check = config.healthCheck!;
  if (check.host !== null) return check.host;
  if (config.host !== "preserve" && config.host !== "target") return config.host;
  return target.hostHeader;
}
