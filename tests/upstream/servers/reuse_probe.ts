/** A raw-server handler that tells whether the client used its first connection again. */
import type { RawConn } from "./raw_server.ts";

/**
 * Connection 0 answers its first request with `first`, and any later request on it with
 * "reused"; every other connection answers "fresh". So the second request's body tells whether
 * the first connection was used again.
 */
export function firstThenReuseProbe(first: string) {
  return async (conn: RawConn, index: number): Promise<void> => {
    if (await conn.readHead() === null) return;
    if (index > 0) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh");
      return void await conn.waitForClose();
    }
    await conn.write(first);
    while (await conn.readHead() !== null) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nreused");
    }
  };
}
