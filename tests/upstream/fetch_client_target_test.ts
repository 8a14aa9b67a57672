/**
 * What request target each upstream client puts on the wire. The raw HTTP/1.1 client writes the
 * path and query byte for byte; `FetchClient` (https:// upstreams) can only hand `fetch` a URL,
 * whose parsing percent-encodes a few characters (documented in fetch_client.ts and the README).
 * A path that is not origin-form would even leave the origin through that parsing, so it is
 * refused, as the raw client refuses it.
 */
import assert from "node:assert/strict";
import { addressOf, type OutboundRequest } from "../../src/upstream/client.ts";
import { FetchClient } from "../../src/upstream/fetch_client.ts";
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

Deno.test("FetchClient sends the target with what URL parsing percent-encodes, as documented", async () => {
  const upstream = recordingUpstream();
  const client = new FetchClient();
  try {
    const res = await client.send(addressOf(new URL(upstream.url)), get(TARGET), TIMEOUTS);
    assert.equal(res.status, 200);
    assert.equal(
      requestLine(upstream.heads[0]),
      "GET /p/%7Bx%7D/%60a%60/%22%3C%3E|^~?q=%27%22%3C%3E{}|^`&e=%7e%2F HTTP/1.1",
    );
  } finally {
    client.close();
    await upstream.close();
  }
});

Deno.test("FetchClient refuses a path that URL parsing would read as another authority", async () => {
  const configured = recordingUpstream();
  const other = recordingUpstream();
  const client = new FetchClient();
  try {
    // `http://127.0.0.1:<configured>@127.0.0.1:<other>/x` is a URL of the other server, with
    // the configured origin as its Basic credentials.
    for (const path of [`@127.0.0.1:${other.port}/x`, `.invalid/x`, "", "*"]) {
      await within(
        assert.rejects(
          client.send(addressOf(new URL(configured.url)), get(path), TIMEOUTS),
          TypeError,
          `path ${JSON.stringify(path)}`,
        ),
        5_000,
        `send ${JSON.stringify(path)}`,
      );
    }
    assert.equal(other.accepted, 0);
    assert.equal(configured.accepted, 0);
  } finally {
    client.close();
    await configured.close();
    await other.close();
  }
});

Deno.test("FetchClient refuses a '#' in the target rather than drop everything after it", async () => {
  const upstream = recordingUpstream();
  const client = new FetchClient();
  try {
    for (const path of ["/a#b?token=1", "/a?x=1#&y=2", "/a b", "/\u00e9"]) {
      await assert.rejects(
        client.send(addressOf(new URL(upstream.url)), get(path), TIMEOUTS),
        TypeError,
        `path ${JSON.stringify(path)}`,
      );
    }
    assert.equal(upstream.accepted, 0);
  } finally {
    client.close();
    await upstream.close();
  }
});
