import type { TlsSettings } from "../../config/normalized.ts";
import type { TargetAddress } from "../client.ts";
import type { Connection } from "./connection.ts";
import { IdlePool } from "./pool.ts";

/**
 * What a client keeps per upstream origin: where it is, whom to trust when it speaks TLS, its Host
 * header, its idle connections.
 */
export class UpstreamOrigin {
  /** `host[:port]` as the Host header carries it when the caller sent none. */
  readonly hostHeader: string;
  readonly pool: IdlePool;
  /** Every connection to the origin not yet closed, idle or carrying an exchange. */
  readonly open = new Set<Connection>();

  constructor(
    readonly address: TargetAddress,
    maxIdle: number,
    idleTimeoutMs: number,
    /** How an `https:` origin is verified; `null`: default roots, the target's host name. */
    readonly tls: TlsSettings | null = null,
  ) {
    this.hostHeader = new URL(address.origin).host;
    this.pool = new IdlePool(maxIdle, idleTimeoutMs);
  }
}
