import http from "node:http";

/** A `node:http` server on an ephemeral port that counts accepted TCP connections. */
export interface NodeServer {
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export async function startNodeServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<NodeServer> {
  const server = http.createServer(handler);
  const sockets = new Set<import("node:net").Socket>();
  const state: NodeServer = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("connection", (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as import("node:net").AddressInfo).port;
  return state;
}
