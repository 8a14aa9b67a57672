/**
 * A TCP server that answers with hand-written bytes, for responses no well-behaved HTTP server
 * would send: broken framing, interim responses, stalls, early closes.
 */

import { type RawSocket, startRawUpstream } from "../../helpers/gateway.ts";

/** One accepted connection: the shared raw socket of the test helpers. */
export type RawConn = RawSocket;

/** A running raw server. */
export interface RawServer {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Every request head read, in order. */
  readonly heads: string[];
  /** Errors thrown by connection handlers. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** Serves each connection with `handle`, which gets it and its 0-based index. */
export function startRawServer(
  handle: (conn: RawConn, index: number) => Promise<void>,
): RawServer {
  return startRawUpstream(handle);
}
