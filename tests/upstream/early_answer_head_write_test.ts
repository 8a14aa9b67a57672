/**
 * An upstream that answers while the request head (with any inline body) is still going out. A
 * request larger than the socket buffers is written in several socket writes; the client must
 * watch for the answer meanwhile (RFC 9112 §9.5), not only once the head is out.
 */
import assert from "node:assert/strict";
import { withRawServer } from "./servers/raw_client_harness.ts";
import { bodyText } from "./servers/target.ts";

/** A header value far larger than loopback socket buffers, so the head needs several writes. */
const HUGE = "a".repeat(16 << 20);

Deno.test("an upstream that answers 431 and closes mid-head: the client gets the 431", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readBytes(16 * 1024);
      // Node's server does this on an oversized head: answer, then close with the rest unread
      // (which resets the connection under the client's remaining writes).
      await conn.write(
        "HTTP/1.1 431 Too Large\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbig",
      );
    },
    async (send) => {
      const res = await send({ headers: ["host", "x", "x-big", HUGE] });
      assert.equal(res.status, 431);
      assert.equal(await bodyText(res.body), "big");
    },
  );
});

Deno.test("an upstream that answers mid-head and stops reading: the answer is not held up", async () => {
  let release: () => void = () => {};
  const answered = new Promise<void>((resolve) => release = resolve);
  await withRawServer(
    async (conn, index) => {
      if (index > 0) {
        while (await conn.readHead() !== null) {
          await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        }
        return;
      }
      await conn.readBytes(16 * 1024);
      await conn.write("HTTP/1.1 431 Too Large\r\ncontent-length: 3\r\n\r\nbig");
      await answered; // Reads nothing more until the test saw the answer.
    },
    async (send, server) => {
      try {
        // Without the fix the client sits in its head write until this deadline: a 504, not a 431.
        const res = await send({ headers: ["host", "x", "x-big", HUGE] });
        assert.equal(res.status, 431);
        assert.equal(await bodyText(res.body), "big");
        release();
        // The half-written request must not leave its connection in the pool.
        const next = await send();
        assert.equal(await bodyText(next.body), "ok");
        assert.equal(server.accepted, 2);
      } finally {
        release();
      }
    },
  );
});
