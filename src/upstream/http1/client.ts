import {
  type ExchangeTimeouts,
  type InboundResponse,
  type OutboundRequest,
  type TargetAddress,
  type UpstreamClient,
  UpstreamError,
} from "../client.ts";
import { DeadlineQueue } from "./deadlines.ts";
import { Exchange } from "./exchange.ts";
import { UpstreamOrigin } from "./origin.ts";

export interface Http1ClientOptions {
  /** Idle keep-alive connections kept per origin; 0 disables reuse. */
  maxIdlePerTarget: number;
  /** An idle connection unused this long is closed; 0 disables reuse as well. */
  idleTimeoutMs: number;
}

/**
 * The fast upstream client: HTTP/1.1 over `Deno.connect`, keep-alive pooled per origin.
 *
 * Plain `http:` only; TLS and HTTP/2 upstreams go through `FetchClient`. One instance serves
 * every target of a gateway: pools are keyed by origin, and all its timeouts share one timer.
 */
export class Http1Client implements UpstreamClient {
  readonly #origins = new Map<string, UpstreamOrigin>();
  readonly #deadlines = new DeadlineQueue();
  #closed = false;

  constructor(readonly options: Http1ClientOptions) {}

  send(
    target: TargetAddress,
    request: OutboundRequest,
    timeouts: ExchangeTimeouts,
  ): Promise<InboundResponse> {
    if (this.#closed) {
      return Promise.reject(new UpstreamError("connect", "the upstream client is closed"));
    }
    if (target.protocol !== "http:") {
      return Promise.reject(
        new UpstreamError("connect", `Http1Client speaks plain http only, not ${target.origin}`),
      );
    }
    let origin = this.#origins.get(target.origin);
    if (origin === undefined) {
      origin = new UpstreamOrigin(
        target,
        this.options.maxIdlePerTarget,
        this.options.idleTimeoutMs,
      );
      this.#origins.set(target.origin, origin);
    }
    return new Exchange(origin, this.#deadlines, request, timeouts).run();
  }

  /**
   * Closes every idle connection. Exchanges still in flight finish, and their connections are
   * closed instead of pooled.
   */
  close(): void {
    this.#closed = true;
    for (const origin of this.#origins.values()) origin.pool.closeAll();
    this.#origins.clear();
  }

  /**
   * Closes every connection, those carrying an exchange included: each such exchange fails as
   * if the upstream had hung up, at once. For a gateway shutting down past its drain, whose
   * requests still waiting on an upstream would otherwise run on until their timeouts.
   */
  abortInFlight(): void {
    const origins = [...this.#origins.values()];
    this.close();
    for (const origin of origins) for (const conn of [...origin.open]) conn.close();
  }
}
