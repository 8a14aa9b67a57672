/**
 * RFC 9112 framing and connection-reuse edge cases of the HTTP/1.1 client, scripted byte by
 * byte from a raw TCP upstream.
 */
import assert from "node:assert/strict";
import { type OutboundRequest, UpstreamError } from "../../src/upstream/client.ts";
import { answerEach, withRawServer } from "./servers/raw_client_harness.ts";
import type { RawConn } from "./servers/raw_server.ts";
import { bodyText } from "./servers/target.ts";

function isProtocol(e: unknown): boolean {
  assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
  assert.equal(e.kind, "protocol", e.message);
  return true;
}

/** Each response is a protocol error, never a response. */
async function rejected(response: string): Promise<void> {
  await withRawServer(answerEach(response), async (send) => {
    await assert.rejects(send(), isProtocol, JSON.stringify(response));
  });
}

Deno.test("malformed field lines and framing headers are protocol errors", async () => {
  for (
    const response of [
      "HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length\t: 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\n: empty name\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: -2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 2 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 0x2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 9007199254740993\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 99999999999999999999999\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length:\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\nx-a: 1\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 200 OK\r\ncontent-length: 2\n\nhi",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n11111111111111111\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x2\r\nhi\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-t: 1\n\r\n",
      "HTTP/2 200 OK\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 099 Low\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 600 High\r\ncontent-length: 2\r\n\r\nhi",
      "HTTP/1.1 20 Short\r\ncontent-length: 2\r\n\r\nhi",
      "http/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
      "\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi",
    ]
  ) {
    await rejected(response);
  }
});

Deno.test("lenient but well-defined framing is read exactly", async () => {
  const cases: [string, string][] = [
    ["HTTP/1.1 200 OK\r\ncontent-length:    2   \r\n\r\nhi", "hi"],
    ["HTTP/1.1 200 OK\r\ncontent-length: 2,2\r\n\r\nhi", "hi"],
    ["HTTP/1.1 200 OK\r\ncontent-length: 0002\r\n\r\nhi", "hi"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nhi", "hi"],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
      "0123456789",
    ],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
      "0123456789",
    ],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0000000000000000000002\r\nhi\r\n0\r\n\r\n",
      "hi",
    ],
    [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;a=b;c="d;e"\r\nhi\r\n000;x\r\n\r\n',
      "hi",
    ],
    [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nx-t: 1\r\nx-u: 2\r\n\r\n",
      "hi",
    ],
  ];
  for (const [response, body] of cases) {
    await withRawServer(answerEach(response), async (send, server) => {
      assert.equal(await bodyText((await send()).body), body, JSON.stringify(response));
      assert.equal(await bodyText((await send()).body), body, JSON.stringify(response));
      assert.equal(server.accepted, 1, `reused after ${JSON.stringify(response)}`);
    });
  }
});

Deno.test("several interim responses, split across reads, precede the final one", async () => {
  await withRawServer(async (conn) => {
    while (await conn.readHead() !== null) {
      await conn.write("HTTP/1.1 100 Continue\r\n\r\n");
      await conn.write("HTTP/1.1 102 Processing\r\n");
      await conn.write("\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 20");
      await conn.write("0 OK\r\ncontent-length: 2\r\n\r\nhi");
    }
  }, async (send, server) => {
    for (let i = 0; i < 3; i++) {
      const res = await send();
      assert.equal(res.status, 200);
      assert.equal(await bodyText(res.body), "hi");
    }
    assert.equal(server.accepted, 1);
  });
});

Deno.test("a HEAD response's content-length is not read as a body", async () => {
  await withRawServer(async (conn) => {
    await conn.readHead();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
    await conn.readHead();
    await conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    await conn.readHead();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    await conn.waitForClose();
  }, async (send, server) => {
    const head = await send({ method: "HEAD" });
    assert.equal(head.body, null);
    assert.equal((await send({ method: "HEAD" })).body, null);
    assert.equal(await bodyText((await send()).body), "hi");
    assert.equal(server.accepted, 1);
  });
});

Deno.test("bytes the upstream sends to an idle pooled connection get it discarded", async () => {
  let junkSent: () => void = () => {};
  const junk = new Promise<void>((resolve) => junkSent = resolve);
  let firstGone: () => void = () => {};
  const gone = new Promise<void>((resolve) => firstGone = resolve);
  await withRawServer(async (conn, index) => {
    if (index === 0) {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
      await junk;
      // A second, unsolicited response: were the connection reused, the next request would get
      // "stale" as its answer.
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale");
      await conn.waitForClose();
      firstGone();
      return;
    }
    await answerEach("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh")(conn);
  }, async (send, server) => {
    assert.equal(await bodyText((await send()).body), "hi");
    junkSent();
    await gone; // The client closed the connection on its own, with no request pending.
    assert.equal(await bodyText((await send()).body), "fresh");
    assert.equal(server.accepted, 2);
  });
});

Deno.test("a stale pooled connection is retried for idempotent methods only", async () => {
  for (
    const [over, retried] of [
      [{ method: "HEAD" }, true],
      [{ method: "DELETE" }, true],
      [{ method: "PUT", body: new Uint8Array([1, 2]), bodyLength: 2 }, true],
      [{ method: "POST" }, false],
      [{ method: "POST", body: new Uint8Array([1, 2]), bodyLength: 2 }, false],
      [{ method: "PATCH", body: new Uint8Array([1, 2]), bodyLength: 2 }, false],
    ] as [Partial<OutboundRequest>, boolean][]
  ) {
    await withRawServer(async (conn, index) => {
      let n = 0;
      for (;;) {
        const head = await conn.readHead();
        if (head === null) return;
        if (index === 0 && ++n === 2) return; // Closes under the second request, unanswered.
        const length = Number(/content-length: (\d+)/.exec(head)?.[1] ?? "0");
        await conn.readBytes(length);
        await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
      }
    }, async (send, server) => {
      assert.equal((await send()).status, 200);
      if (retried) {
        assert.equal((await send(over)).status, 200, over.method);
        assert.equal(server.accepted, 2);
      } else {
        await assert.rejects(send(over), (e) => e instanceof UpstreamError && e.kind === "reset");
        assert.equal(server.accepted, 1, `${over.method} was sent twice`);
      }
    });
  }
});

Deno.test("HTTP/1.0 keep-alive with a close-delimited body is not reused", async () => {
  await withRawServer(async (conn) => {
    await conn.readHead();
    await conn.write("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\nuntil close");
  }, async (send, server) => {
    assert.equal(await bodyText((await send()).body), "until close");
    assert.equal(await bodyText((await send()).body), "until close");
    assert.equal(server.accepted, 2);
  });
});

Deno.test("a long obs-text header is written byte for byte", async () => {
  const value = "\u00e9\u00ff\u0080x".repeat(30_000);
  await withRawServer(answerEach("HTTP/1.1 204 No Content\r\n\r\n"), async (send, server) => {
    assert.equal((await send({ headers: ["host", "x", "x-long", value] })).status, 204);
    assert.ok(server.heads[0].includes(`\r\nx-long: ${value}\r\n`));
    // The grown write buffer still frames the next, short request exactly.
    assert.equal((await send()).status, 204);
    assert.match(server.heads[1], /^GET \/ HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n\r\n$/);
    assert.equal(server.accepted, 1);
  });
});

Deno.test("a request body that errors half-way discards the connection", async () => {
  await withRawServer(async (conn, index) => {
    await conn.readHead();
    if (index === 0) return void await conn.waitForClose();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  }, async (send, server) => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull: (c) => {
        if (n++ === 0) c.enqueue(new Uint8Array(10));
        else c.error(new Error("client went away"));
      },
    });
    await assert.rejects(
      send({ method: "POST", body, bodyLength: 100 }),
      (e) => e instanceof UpstreamError && e.kind === "aborted",
    );
    assert.equal(await bodyText((await send()).body), "ok");
    assert.equal(server.accepted, 2);
  });
});

/** Writes `bytes` in pieces whose sizes cycle through `sizes`, so every boundary gets hit. */
async function writeInPieces(conn: RawConn, bytes: Uint8Array, sizes: number[]): Promise<void> {
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - p);
    await conn.write(bytes.subarray(p, p + n));
    p += n;
  }
}

Deno.test("large chunked and length bodies split at odd boundaries arrive intact", async () => {
  const enc = new TextEncoder();
  const payload = new Uint8Array(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 11)) & 0xff;
  const chunked = [
    enc.encode("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
    enc.encode("1fffe;x=y\r\n"),
    payload.subarray(0, 0x1fffe),
    enc.encode("\r\n1\r\n"),
    payload.subarray(0x1fffe, 0x1ffff),
    enc.encode(`\r\n${(payload.length - 0x1ffff).toString(16).toUpperCase()}\r\n`),
    payload.subarray(0x1ffff),
    enc.encode("\r\n0\r\nx-trailer: 1\r\n\r\n"),
  ];
  const chunkedBytes = new Uint8Array(chunked.reduce((n, b) => n + b.length, 0));
  chunked.reduce((p, b) => (chunkedBytes.set(b, p), p + b.length), 0);
  const head = enc.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${payload.length}\r\n\r\n`);
  const lengthBytes = new Uint8Array(head.length + payload.length);
  lengthBytes.set(head);
  lengthBytes.set(payload, head.length);

  await withRawServer(async (conn) => {
    for (let i = 0; await conn.readHead() !== null; i++) {
      const sizes = [[1, 2, 3, 70_000], [5, 65_536, 1], [4096, 9, 131_072]][i % 3];
      await writeInPieces(conn, i % 2 === 0 ? chunkedBytes : lengthBytes, sizes);
    }
  }, async (send, server) => {
    for (let i = 0; i < 6; i++) {
      const res = await send();
      const got = new Uint8Array(await new Response(res.body).arrayBuffer());
      assert.equal(got.length, payload.length, `response ${i}`);
      assert.ok(got.every((b, j) => b === payload[j]), `response ${i} corrupted`);
    }
    assert.equal(server.accepted, 1);
  });
});
