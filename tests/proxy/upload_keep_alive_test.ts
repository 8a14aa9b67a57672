/**
 * A client's connection stays open after an upload. Deno.serve keeps a connection alive only if
 * the request body stream was read to its end: a body read for all its declared bytes but never
 * to `done` makes it answer with `Connection: close`. Every POST whose body arrived after its head
 * (any body over one TCP segment, and most clients write head and body apart) then cost the
 * client a new connection (a new TLS handshake behind a TLS listener).
 */
import assert from "node:assert/strict";
import {
  catchAll,
  portOf,
  RawSocket,
  startTestGateway,
  startUpstream,
} from "../helpers/gateway.ts";

/** Two POSTs on one client connection, each body written after its head. */
async function twoUploads(extra: Record<string, unknown>) {
  const upstream = startUpstream(async (req) => new Response(`got ${(await req.bytes()).length}`));
  const gw = await startTestGateway(catchAll(upstream.url, extra));
  const socket = new RawSocket(await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) }));
  try {
    const heads: string[] = [];
    for (const path of ["/one", "/two"]) {
      await socket.write(`POST ${path} HTTP/1.1\r\nHost: api.test\r\nContent-Length: 4000\r\n\r\n`);
      await socket.write(new Uint8Array(4000));
      const head = await socket.readHead();
      assert.notEqual(head, null, `the gateway closed the connection before answering ${path}`);
      heads.push(head!.toLowerCase());
      assert.equal(new TextDecoder().decode(await socket.readBytes(8)), "got 4000");
    }
    return heads;
  } finally {
    socket.close();
    await gw.close();
    await upstream.close();
  }
}

Deno.test("a streamed upload keeps the client's connection open for the next request", async () => {
  const heads = await twoUploads({});
  for (const head of heads) {
    assert.match(head, /^http\/1\.1 200/);
    assert.doesNotMatch(head, /connection: close/);
  }
});
