/** What the inbound probes share: the backend they forward to, and generous timeouts. */
import type { ExchangeTimeouts, TargetAddress } from "../../src/upstream/client.ts";

/** 127.0.0.1:$BACKEND_PORT, as bench/side_by_side.sh starts it. */
export function backendTarget(): TargetAddress {
  const port = Number(Deno.env.get("BACKEND_PORT") ?? 28100);
  return { origin: `http://127.0.0.1:${port}`, protocol: "http:", hostname: "127.0.0.1", port };
}

export const TIMEOUTS: ExchangeTimeouts = { connectMs: 5_000, totalMs: 30_000, idleMs: 30_000 };
