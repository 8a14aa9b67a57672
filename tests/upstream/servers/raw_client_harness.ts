/**
 * A fresh `Http1Client` against a raw server that writes hand-crafted bytes: the harness of the
 * HTTP/1.1 client tests that script an upstream byte by byte.
 */
import assert from "node:assert/strict";
import type { OutboundRequest } from "../../../src/upstream/client.ts";
import { Http1Client } from "../../../src/upstream/http1/client.ts";
import { type RawConn, type RawServer, startRawServer } from "./raw_server.ts";
import { relaxed, request, targetFor } from "./target.ts";

/** Sends a default request (see `request`), changed by `over`, to the raw server. */
export type Send = (over?: Partial<OutboundRequest>) => ReturnType<Http1Client["send"]>;

/**
 * Runs `fn` with a client made with `options` and a raw server serving each connection with
 * `handle`; closes both after, then asserts no connection handler threw.
 */
export async function withRawServer(
  handle: (conn: RawConn, index: number) => Promise<void>,
  fn: (send: Send, server: RawServer) => Promise<void>,
  options = { maxIdlePerTarget: 8, idleTimeoutMs: 30_000 },
): Promise<void> {
  const server = startRawServer(handle);
  const client = new Http1Client(options);
  try {
    await fn(
      (over = {}) => client.send(targetFor(server.port), request(server.port, over), relaxed),
      server,
    );
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
}

/** A connection handler that answers every request with `response`, until the client closes. */
export function answerEach(response: string): (conn: RawConn) => Promise<void> {
  return async (conn: RawConn) => {
    while (await conn.readHead() !== null) await conn.write(response);
  };
}
