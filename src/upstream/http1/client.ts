import type { TlsSettings } from "../../config/normalized.ts";
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
  /**
   * How `https:` origins are verified: extra roots besides Deno's defaults (which `DENO_CERT`
   * and `DENO_TLS_CA_STORE` extend for a whole process), and the name to expect.
   */
  tls?: TlsSettings;
}

/**
 * The upstream client: HTTP/1.1 over `Deno.connect`, and over TLS (`Deno.startTls`) for `https:`
 * origins, keep-alive pooled per origin. One instance serves every target of a gateway: pools
 * are keyed by origin, and all its timeouts share one timer.
 *
 * Why not `fetch` for TLS: it takes a URL (so the target is re-encoded, and dot segments are
 * resolved again), sends every streamed upload chunked (servers without chunked request bodies
 * refuse them), adds `accept`, `accept-language` and `user-agent` fields of its own, decodes
 * gzip behind the caller's back, hides trailers and the connect phase (no connect timeout), and
 * refuses the ports browsers block. Speaking HTTP/1.1 to TLS upstreams, as nginx and Envoy do by
 * default, keeps one contract for every target.
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
    let origin = this.#origins.get(target.origin);
    if (origin === undefined) {
      origin = new UpstreamOrigin(
        target,
        this.options.maxIdlePerTarget,
        this.options.idleTimeoutMs,
        target.protocol === "https:" ? this.options.tls ?? null : null,
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
