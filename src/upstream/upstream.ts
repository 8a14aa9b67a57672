import type { NormalizedUpstream } from "../config/normalized.ts";
import type { Balancer } from "./balancers/balancer.ts";
import type { ExchangeTimeouts, UpstreamClient } from "./client.ts";
import type { Target } from "./target.ts";

/**
 * One upstream at runtime: its targets, balancer and clients. Built once per snapshot, and
 * carried whole into the next snapshot when its config did not change, so pools and balancer
 * positions survive reloads.
 */
export class UpstreamRuntime {
  readonly timeouts: ExchangeTimeouts;

  constructor(
    readonly config: NormalizedUpstream,
    readonly targets: readonly Target[],
    readonly balancer: Balancer,
    /** Plain-HTTP targets: the pooled HTTP/1.1 client. */
    readonly http: UpstreamClient,
    /** TLS targets: the fetch client (HTTP/2 by ALPN). */
    readonly https: UpstreamClient,
  ) {
    const t = config.timeouts;
    this.timeouts = { connectMs: t.connectMs, totalMs: t.totalMs, idleMs: t.idleMs };
  }

  clientFor(target: Target): UpstreamClient {
    return target.address.protocol === "https:" ? this.https : this.http;
  }

  close(): void {
    this.http.close();
    this.https.close();
  }
}
