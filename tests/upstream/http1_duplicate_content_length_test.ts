/**
 * Repeated identical Content-Length values from a raw TCP upstream ("5, 5", or the field twice).
 * RFC 9112 §6.3 (5) lets a recipient accept them, replaced by one field holding the one value
 * before the message is forwarded. Passed on as the list, the value is not a valid
 * Content-Length for the client: Deno.serve then writes its own, and for a HEAD response that
 * is `content-length: 0`, which tells the client the resource is empty.
 */
import assert from "node:assert/strict";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { rawExchange } from "../helpers/gateway.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { startPlainGateway } from "./servers/plain_gateway.ts";
import { bodyText, relaxed, request, targetFor } from "./servers/target.ts";

const REPEATS = [
  "content-length: 5, 5\r\n",
  "content-length: 5,5\r\n",
  "content-length: 5 , 5,5\r\n",
  "content-length: 5\r\ncontent-length: 5\r\n",
  "content-length: 5, 5\r\ncontent-length: 5\r\n",
];

Deno.test("repeated identical content-lengths reach the caller as one field with one value", async () => {
  for (const fields of REPEATS) {
    const what = JSON.stringify(fields);
    const server = startRawServer(async (conn) => {
      while (await conn.readHead() !== null) {
        await conn.write(`HTTP/1.1 200 OK\r\nx-a: 1\r\n${fields}x-b: 2\r\n\r\nhello`);
      }
    });
    const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
    try {
      for (const method of ["GET", "HEAD"]) {
        const res = await client.send(
          targetFor(server.port),
          request(server.port, { method }),
          relaxed,
        );
        assert.deepEqual(
          res.headers,
          ["x-a", "1", "content-length", "5", "x-b", "2"],
          `${method} ${what}`,
        );
        assert.equal(
          await bodyText(res.body),
          method === "GET" ? "hello" : "",
          `${method} ${what}`,
        );
      }
    } finally {
      client.close();
      await server.close();
    }
    assert.deepEqual(server.errors, [], what);
  }
});

Deno.test("through the gateway, a HEAD answer with content-length 5, 5 says 5", async () => {
  const server = startRawServer(async (conn) => {
    while (await conn.readHead() !== null) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n");
    }
  });
  const gw = await startPlainGateway(server.port);
  try {
    const res = await rawExchange(
      Number(new URL(gw.url).port),
      "HEAD / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
      { head: true },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.all("content-length"), ["5"]);
  } finally {
    await gw.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});
