/**
 * Method matching through the gateway: a GET route also answers HEAD, which is forwarded as
 * HEAD and comes back with the upstream's Content-Length and no body; other methods fall
 * through to 404.
 */
import assert from "node:assert/strict";
import {
  portOf,
  rawRequest,
  type RawSocket,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** Answers HEAD with the GET head only, as RFC 9110 §9.3.2 asks. */
async function helloServer(socket: RawSocket): Promise<void> {
  for (let head = await socket.readHead(); head !== null; head = await socket.readHead()) {
    const response = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\n\r\n";
    await socket.write(head.startsWith("HEAD ") ? response : response + "hello world");
  }
}

async function withGetRoute(fn: (port: number) => Promise<void>): Promise<string[]> {
  const upstream = startRawUpstream(helloServer);
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ match: { path: "/hello", method: "GET" }, upstream: "api" }],
  });
  try {
    await fn(portOf(gw));
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.deepEqual(upstream.errors, []);
  return upstream.heads.map((h) => h.slice(0, h.indexOf(" ")));
}

/** Status, headers block and whatever followed the head, for one request on a closing conn. */
async function send(port: number, method: string) {
  const text = await rawRequest(
    port,
    `${method} /hello HTTP/1.1\r\nHost: api.test\r\nConnection: close\r\n\r\n`,
  );
  const end = text.indexOf("\r\n\r\n");
  return {
    status: Number(text.split(" ")[1]),
    head: text.slice(0, end),
    after: text.slice(end + 4),
  };
}

Deno.test("a GET route answers HEAD with the upstream's Content-Length and no body", async () => {
  const methods = await withGetRoute(async (port) => {
    const res = await send(port, "HEAD");
    assert.equal(res.status, 200);
    assert.match(res.head, /^content-length: 11$/im);
    // The connection closed right after the head: no body bytes followed it.
    assert.equal(res.after, "");
  });
  assert.deepEqual(methods, ["HEAD"], "HEAD must be forwarded as HEAD, not turned into GET");
});

Deno.test("the same GET route answers GET with the body", async () => {
  const methods = await withGetRoute(async (port) => {
    const res = await send(port, "GET");
    assert.equal(res.status, 200);
    assert.equal(res.after, "hello world");
  });
  assert.deepEqual(methods, ["GET"]);
});

Deno.test("a GET route does not take POST", async () => {
  const methods = await withGetRoute(async (port) => {
    const res = await send(port, "POST");
    assert.equal(res.status, 404);
  });
  assert.deepEqual(methods, []);
});
