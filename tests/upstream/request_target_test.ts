/**
 * What request target the upstream client puts on the wire: the path and query byte for byte
 * (`fetch`, which takes a URL, would percent-encode `"<>{}` and more), and nothing at all for a
 * path that is not origin-form.
 */
import assert from "node:assert/strict";
import { addressOf, type OutboundRequest } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { type RawUpstream, startRawUpstream, within } from "../helpers/gateway.ts";

const TIMEOUTS = { connectMs: 5_000, totalMs: 5_000, idleMs: 5_000 };

function get(path: string): OutboundRequest {
  return { method: "GET", path, headers: ["host", "a.test"], body: null, bodyLength: -1 };
}

/** Answers every request 200 with an empty body; `heads` holds the request heads as sent. */
function recordingUpstream(): RawUpstream {
  return startRawUpstream(async (socket) => {
    while (await socket.readHead() !== null) {
      await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    }
  });
}

function requestLine(head: string): string {
  return head.slice(0, head.indexOf("\r\n"));
}

/** Characters WHATWG URL parsing encodes: `"<>` ` `{}` in the path, `"'<>` in the query. */
const TARGET = '/p/{x}/`a`/"<>|^~?q=\'"<>{}|^`&e=%7e%2F';

Deno.test("Http1Client sends the request target byte for byte", async () => {
  const upstream = recordingUpstream();
  const client = new Http1Client({ maxIdlePerTarget: 0, idleTimeoutMs: 0 });
  try {
    const res = await client.send(addressOf(new URL(upstream.url)), get(TARGET), TIMEOUTS);
    assert.equal(res.status, 200);
    assert.equal(requestLine(upstream.heads[0]), `GET ${TARGET} HTTP/1.1`);
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("Http1Client refuses a path that is not origin-form, sending nothing", async () => {
  const upstream = recordingUpstream();
  const client = new Http1Client({ maxIdlePerTarget: 0, idleTimeoutMs: 0 });
  try {
    for (const path of [`@127.0.0.1:1/x`, ".invalid/x", "", "/a b", "/\u00e9"]) {
      await within(
        assert.rejects(
          client.send(addressOf(new URL(upstream.url)), get(path), TIMEOUTS),
          TypeError,
          `path ${JSON.stringify(path)}`,
        ),
        5_000,
        `send ${JSON.stringify(path)}`,
      );
    }
    assert.equal(upstream.heads.length, 0);
  } finally {
    client.close();
    await upstream.close();
  }
});
