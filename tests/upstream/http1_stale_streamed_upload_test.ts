/**
 * A streamed upload sent on a pooled connection that the upstream closed at its keep-alive
 * timeout (a Node server's default is 5 s), the FIN crossing the request on the wire, is sent
 * again on a fresh connection, as a GET or a buffered body is: it got a 502.
 *
 * Deterministic without sleeps: the upstream closes the pooled connection only once the second
 * request's head has reached it, so the client's idle read cannot have seen the close before the
 * request went out.
 */
import assert from "node:assert/strict";
import type { OutboundRequest } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { bodyText, relaxed, request, streamOf, targetFor } from "./servers/target.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads from `conn` until `done` holds for what arrived so far; `null` at end of stream. */
async function readUntil(
  conn: Deno.Conn,
  sofar: string,
  done: (text: string) => boolean,
): Promise<string | null> {
  const buf = new Uint8Array(64 * 1024);
  let text = sofar;
  while (!done(text)) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return null;
    text += decoder.decode(buf.subarray(0, n));
  }
  return text;
}

const headEnds = (text: string) => text.includes("\r\n\r\n");

/** True when `text` holds a whole request: its head and the body its framing announces. */
function wholeRequest(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = text.slice(0, end).toLowerCase();
  const body = text.slice(end + 4);
  const length = /content-length: (\d+)/.exec(head);
  if (length !== null) return body.length >= Number(length[1]);
  if (head.includes("transfer-encoding: chunked")) return body.endsWith("0\r\n\r\n");
  return true;
}

/**
 * An upstream whose first connection answers one request with keep-alive, then closes when the
 * next request's head arrives (its keep-alive timeout fired as that request was on its way).
 * Later connections answer each whole request with 200 and keep what they received.
 */
function closingUpstream() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const received: string[] = [];
  let accepted = 0;
  const handlers: Promise<void>[] = [];

  async function serve(conn: Deno.Conn, index: number): Promise<void> {
    try {
      if (index === 0) {
        if (await readUntil(conn, "", headEnds) === null) return;
        await conn.write(encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
        await readUntil(conn, "", headEnds);
        return; // closed in `finally`, unanswered
      }
      for (;;) {
        const text = await readUntil(conn, "", wholeRequest);
        if (text === null) return;
        received.push(text);
        await conn.write(encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nsent"));
      }
    } finally {
      conn.close();
    }
  }

  const accepting = (async () => {
    for await (const conn of listener) handlers.push(serve(conn, accepted++));
  })();

  return {
    port,
    received,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      await accepting;
      await Promise.all(handlers);
    },
  };
}

async function uploadAfterStaleClose(upload: Partial<OutboundRequest>): Promise<{
  status: number;
  body: string;
  received: string[];
  accepted: number;
}> {
  const upstream = closingUpstream();
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  const target = targetFor(upstream.port);
  try {
    const first = await client.send(target, request(upstream.port), relaxed);
    assert.equal(await bodyText(first.body), "ok");
    const res = await client.send(target, request(upstream.port, upload), relaxed);
    return {
      status: res.status,
      body: await bodyText(res.body),
      received: upstream.received,
      accepted: upstream.accepted,
    };
  } finally {
    client.close();
    await upstream.close();
  }
}

const chunks = () => [encoder.encode("hello, "), encoder.encode("upstream")];

Deno.test("a streamed upload of declared length on a connection the upstream closed is sent again on a fresh one", async () => {
  const out = await uploadAfterStaleClose({
    method: "PUT",
    body: streamOf(chunks()),
    bodyLength: 15,
  });
  assert.equal(out.status, 200);
  assert.equal(out.body, "sent");
  assert.equal(out.accepted, 2, "one fresh connection after the stale one");
  assert.equal(out.received.length, 1);
  assert.match(out.received[0], /^PUT \/ HTTP\/1\.1\r\n/);
  assert.match(out.received[0], /content-length: 15\r\n/);
  assert.ok(out.received[0].endsWith("\r\n\r\nhello, upstream"), out.received[0]);
});

Deno.test("a chunked streamed upload on a connection the upstream closed is sent again on a fresh one", async () => {
  const out = await uploadAfterStaleClose({
    method: "PUT",
    body: streamOf(chunks()),
    bodyLength: -1,
  });
  assert.equal(out.status, 200);
  assert.equal(out.accepted, 2);
  assert.equal(out.received.length, 1);
  assert.match(out.received[0], /transfer-encoding: chunked\r\n/);
  assert.ok(
    out.received[0].endsWith("\r\n\r\n7\r\nhello, \r\n8\r\nupstream\r\n0\r\n\r\n"),
    out.received[0],
  );
});

Deno.test("a streamed POST on a connection the upstream closed still fails: its method is not retried", async () => {
  await assert.rejects(
    uploadAfterStaleClose({ method: "POST", body: streamOf(chunks()), bodyLength: 15 }),
    (e: Error) => /closed|reset|failed/.test(e.message),
  );
});
