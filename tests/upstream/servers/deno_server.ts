/** A `Deno.serve` server on an ephemeral port. */
export interface DenoServer {
  port: number;
  close(): Promise<void>;
}

export function startDenoServer(handler: Deno.ServeHandler): DenoServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return { port: server.addr.port, close: () => server.shutdown() };
}
