/**
 * Edge cases of the raw HTTP/1.1 client, against a TCP server that writes hand-crafted bytes.
 */
import assert from "node:assert/strict";
import { type OutboundRequest, UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { answerEach, withRawServer } from "./servers/raw_client_harness.ts";
import { bodyText, header, relaxed, request, targetFor, unusedPort } from "./servers/target.ts";

function isKind(kind: UpstreamError["kind"], message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

Deno.test("a close-delimited body is read to EOF and its connection is not reused", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the ");
      await conn.write("end");
      conn.close();
    },
    async (send, server) => {
      const first = await send();
      assert.ok(first.body instanceof ReadableStream);
      assert.equal(await bodyText(first.body), "until the end");
      assert.equal(await bodyText((await send()).body), "until the end");
      assert.equal(server.accepted, 2);
    },
  );
});

Deno.test("chunk extensions are skipped and trailers dropped", async () => {
  const response = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
    '5;name=value;quoted="a b"\r\nhello\r\n' +
    "6 ; x\r\n world\r\n" +
    "0;last\r\nx-trailer: 1\r\nx-other: 2\r\n\r\n";
  await withRawServer(answerEach(response), async (send, server) => {
    for (let i = 0; i < 2; i++) {
      const res = await send();
      assert.equal(await bodyText(res.body), "hello world");
      assert.equal(header(res.headers, "x-trailer"), undefined);
    }
    assert.equal(server.accepted, 1, "the connection was reused after the trailers");
  });
});

Deno.test("a chunked body arriving in small pieces is decoded as it streams", async () => {
  let headSeen!: () => void;
  const seen = new Promise<void>((resolve) => headSeen = resolve);
  const tail = "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nx-t: 1\r\n\r\n";
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nx");
      await seen;
      // One byte per write: every decoder state gets split across reads.
      for (const ch of "y\r\n" + tail) await conn.write(ch);
      await conn.waitForClose();
    },
    async (send) => {
      const res = await send();
      headSeen();
      assert.ok(res.body instanceof ReadableStream);
      assert.equal(await bodyText(res.body), "xyabc0123456789abcdef");
    },
  );
});

Deno.test("a malformed chunk size is a protocol error", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /chunk size/));
    },
  );
});

Deno.test("a malformed chunk size mid-stream errors the body stream", async () => {
  let headSeen!: () => void;
  const seen = new Promise<void>((resolve) => headSeen = resolve);
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
      await seen;
      await conn.write("-1\r\n");
      await conn.waitForClose();
    },
    async (send) => {
      const res = await send();
      headSeen();
      assert.ok(res.body instanceof ReadableStream);
      const reader = res.body.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "hello");
      await assert.rejects(reader.read(), isKind("protocol"));
    },
  );
});

Deno.test("transfer-encoding together with content-length is a protocol error", async () => {
  await withRawServer(
    answerEach(
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /both/));
    },
  );
});

Deno.test("a transfer-coding other than chunked is a protocol error", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /gzip/));
    },
  );
});

Deno.test("differing duplicate content-lengths are a protocol error", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /content-length/));
    },
  );
});

Deno.test("identical duplicate content-lengths are accepted", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5, 5\r\n\r\nhello"),
    async (send) => {
      assert.equal(await bodyText((await send()).body), "hello");
    },
  );
});

Deno.test("a non-numeric content-length is a protocol error", async () => {
  for (const value of ["abc", "-1", "1e3", "5 5", ""]) {
    await withRawServer(
      answerEach(`HTTP/1.1 200 OK\r\ncontent-length: ${value}\r\n\r\nhello`),
      async (send) => {
        await assert.rejects(send(), isKind("protocol"), `content-length: ${value}`);
      },
    );
  }
});

Deno.test("100 Continue and 103 Early Hints before the response are skipped", async () => {
  await withRawServer(
    answerEach(
      "HTTP/1.1 100 Continue\r\n\r\n" +
        "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n" +
        "HTTP/1.1 201 Created\r\nx-final: yes\r\ncontent-length: 4\r\n\r\ndone",
    ),
    async (send, server) => {
      for (let i = 0; i < 2; i++) {
        const res = await send({ method: "POST", body: new Uint8Array([1, 2]), bodyLength: 2 });
        assert.equal(res.status, 201);
        assert.equal(res.statusText, "Created");
        assert.equal(header(res.headers, "x-final"), "yes");
        assert.equal(header(res.headers, "link"), undefined);
        assert.equal(await bodyText(res.body), "done");
      }
      assert.equal(server.accepted, 1);
    },
  );
});

Deno.test("101 Switching Protocols is a protocol error", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /101/));
    },
  );
});

Deno.test("an HTTP/1.0 response is read and its connection not reused", async () => {
  await withRawServer(
    answerEach("HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold"),
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "old");
      assert.equal(await bodyText((await send()).body), "old");
      assert.equal(server.accepted, 2);
    },
  );
});

Deno.test("an HTTP/1.0 response with keep-alive keeps its connection", async () => {
  await withRawServer(
    answerEach("HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 3\r\n\r\nold"),
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "old");
      assert.equal(await bodyText((await send()).body), "old");
      assert.equal(server.accepted, 1);
    },
  );
});

Deno.test("a connection: close response is not reused", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi"),
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(server.accepted, 2);
    },
  );
});

Deno.test("bytes after the framed body make the connection unusable", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiGARBAGE"),
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(server.accepted, 2);
    },
  );
});

Deno.test("an idle connection the upstream closed is not handed out again", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
      conn.close();
    },
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(server.accepted, 2);
    },
  );
});

Deno.test("a pooled connection that dies under a GET is retried once on a new one", async () => {
  const heads: number[] = [];
  await withRawServer(
    async (conn, index) => {
      heads[index] = 0;
      // The first connection answers once, then takes the next request and drops it: the race
      // of an upstream closing a keep-alive connection just as a request goes out.
      while (await conn.readHead() !== null) {
        heads[index]++;
        if (index === 0 && heads[index] === 2) return conn.close();
        await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
      }
    },
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(server.accepted, 2);
      assert.deepEqual(heads, [2, 1], "the second request reached the first connection");
    },
  );
});

Deno.test("a pooled connection that dies under a streamed POST is not retried", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
      await conn.readHead();
      conn.close();
    },
    async (send, server) => {
      assert.equal(await bodyText((await send()).body), "hi");
      const body = new ReadableStream<Uint8Array>({
        pull: (c) => {
          c.enqueue(new Uint8Array([1, 2, 3]));
          c.close();
        },
      });
      await assert.rejects(
        send({ method: "POST", body, bodyLength: -1 }),
        isKind("reset"),
      );
      assert.equal(server.accepted, 1, "no second connection");
    },
  );
});

Deno.test("a response head over 64 KiB is a protocol error", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\n");
      for (let i = 0; i < 80; i++) await conn.write(`x-filler-${i}: ${"a".repeat(1000)}\r\n`);
      await conn.waitForClose();
    },
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /larger than/));
    },
  );
});

Deno.test("a large head under the limit is fine", async () => {
  const filler = Array.from({ length: 40 }, (_, i) => `x-f-${i}: ${"b".repeat(1000)}\r\n`).join("");
  await withRawServer(
    answerEach(`HTTP/1.1 200 OK\r\n${filler}content-length: 2\r\n\r\nok`),
    async (send) => {
      const res = await send();
      assert.equal(header(res.headers, "x-f-39"), "b".repeat(1000));
      assert.equal(await bodyText(res.body), "ok");
    },
  );
});

Deno.test("obsolete line folding is a protocol error", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\nx-a: one\r\n  two\r\ncontent-length: 0\r\n\r\n"),
    async (send) => {
      await assert.rejects(send(), isKind("protocol", /folding/));
    },
  );
});

Deno.test("malformed heads are protocol errors", async () => {
  const heads = [
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/1.1 099 Low\r\n\r\n",
    "ICY 200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx a: 1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a : 1\r\n\r\n",
    "HTTP/1.1 200 OK\nx-a: 1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a: 1\rx-b: 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a: \u0000\r\n\r\n",
  ];
  for (const head of heads) {
    await withRawServer(answerEach(head), async (send) => {
      await assert.rejects(send(), isKind("protocol"), JSON.stringify(head));
    });
  }
});

Deno.test("every control character but HTAB in a response head is a protocol error", async () => {
  // Kept, they would reach the client's response, and Deno's HTTP/1.1 writer panics on them.
  const controls = [...Array.from({ length: 32 }, (_, b) => b), 127]
    .filter((b) => b !== 9 && b !== 10 && b !== 13);
  for (const b of controls) {
    const c = String.fromCharCode(b);
    for (const head of [`HTTP/1.1 200 O${c}K\r\n\r\n`, `HTTP/1.1 200 OK\r\nx-a: 1${c}2\r\n\r\n`]) {
      await withRawServer(answerEach(head), async (send) => {
        await assert.rejects(send(), isKind("protocol"), JSON.stringify(head));
      });
    }
  }
  // HTAB inside a value and obs-text (bytes 0x80-0xFF) are allowed (RFC 9110 §5.5).
  const fine = "HTTP/1.1 200 OK\r\nx-a: 1\t2\r\nx-b: caf\xe9\r\ncontent-length: 0\r\n\r\n";
  await withRawServer(answerEach(fine), async (send) => {
    const res = await send();
    assert.deepEqual(res.headers, ["x-a", "1\t2", "x-b", "caf\xe9", "content-length", "0"]);
  });
});

Deno.test("a request header value with a control character is never written", async () => {
  // CR LF would start a header (or a request) of the caller's making; the rest a server refuses.
  for (
    const value of ["a\r\nx-injected: 1", "a\nb", "a\u0000b", "a\u0001b", "a\u007fb", "\u0100"]
  ) {
    await withRawServer(answerEach("HTTP/1.1 204 No Content\r\n\r\n"), async (send, server) => {
      await assert.rejects(send({ headers: ["host", "x", "x-a", value] }), TypeError);
      assert.deepEqual(server.heads, [], JSON.stringify(value));
    });
  }
  // HTAB and Latin-1 beyond ASCII (obs-text) are allowed.
  await withRawServer(answerEach("HTTP/1.1 204 No Content\r\n\r\n"), async (send, server) => {
    assert.equal((await send({ headers: ["host", "x", "x-a", "1\t2 caf\u00e9"] })).status, 204);
    assert.match(server.heads[0], /\r\nx-a: 1\t2 caf\u00e9\r\n/);
  });
});

Deno.test("a status line without a reason phrase is accepted", async () => {
  await withRawServer(answerEach("HTTP/1.1 404\r\ncontent-length: 0\r\n\r\n"), async (send) => {
    const res = await send();
    assert.equal(res.status, 404);
    assert.equal(res.statusText, "");
    assert.deepEqual(res.body, new Uint8Array(0));
  });
});

Deno.test("204 and 304 with a content-length still have no body", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n");
      await conn.readHead();
      await conn.write("HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\n\r\n");
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
      await conn.waitForClose();
    },
    async (send, server) => {
      assert.equal((await send()).body, null);
      assert.equal((await send()).body, null);
      assert.equal(await bodyText((await send()).body), "hello");
      assert.equal(server.accepted, 1);
    },
  );
});

Deno.test("cancelling a body mid-stream closes the connection instead of pooling it", async () => {
  let closedByClient = false;
  await withRawServer(
    async (conn, index) => {
      await conn.readHead();
      if (index === 0) {
        await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst");
        await conn.waitForClose();
        closedByClient = true;
      } else {
        await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
        await conn.waitForClose();
      }
    },
    async (send, server) => {
      const res = await send();
      assert.ok(res.body instanceof ReadableStream);
      const reader = res.body.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
      await reader.cancel();
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(server.accepted, 2);
    },
  );
  assert.ok(closedByClient);
});

Deno.test("a body cut short by the upstream errors with reset", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this");
      conn.close();
    },
    async (send) => {
      const res = await send();
      await assert.rejects(bodyText(res.body), isKind("reset", /content-length/));
    },
  );
});

Deno.test("an upstream closing before the response is a reset", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 O");
      conn.close();
    },
    async (send) => {
      await assert.rejects(send(), isKind("reset", /inside the response head/));
    },
  );
});

Deno.test("the request head is written as the caller gave it, with client framing", async () => {
  const heads: string[] = [];
  const bodies: string[] = [];
  await withRawServer(
    async (conn) => {
      for (;;) {
        const head = await conn.readHead();
        if (head === null) return;
        heads.push(head);
        if (/transfer-encoding: chunked/.test(head)) bodies.push(await conn.readUntil("0\r\n\r\n"));
        const length = /content-length: (\d+)/.exec(head);
        if (length) bodies.push(new TextDecoder().decode(await conn.readBytes(Number(length[1]))));
        await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
      }
    },
    async (send, server) => {
      await send({
        path: "/a/b?c=d&e",
        headers: ["host", "svc.internal", "x-one", "1", "x-one", "2", "content-length", "99"],
      });
      await send({ method: "DELETE", headers: [] });
      const big = new Uint8Array(20_000).fill(120);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("abc"));
          c.enqueue(new Uint8Array(0));
          c.enqueue(big);
          c.enqueue(new TextEncoder().encode("z"));
          c.close();
        },
      });
      await send({ method: "POST", body: stream, bodyLength: -1 });
      const known = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("12345"));
          c.close();
        },
      });
      await send({ method: "PATCH", body: known, bodyLength: 5 });
      assert.equal(server.accepted, 1);
    },
  );
  assert.equal(
    heads[0],
    "GET /a/b?c=d&e HTTP/1.1\r\nhost: svc.internal\r\nx-one: 1\r\nx-one: 2\r\n\r\n",
    "caller's content-length dropped, repeated headers kept in order",
  );
  const defaultHost = /^DELETE \/ HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n\r\n$/;
  assert.match(heads[1], defaultHost, "Host from the target when the caller sent none");
  assert.match(heads[2], /^POST \/ HTTP\/1\.1\r\n.*transfer-encoding: chunked\r\n\r\n$/s);
  assert.equal(bodies[0], `3\r\nabc\r\n4e20\r\n${"x".repeat(20_000)}\r\n1\r\nz\r\n0\r\n\r\n`);
  assert.match(heads[3], /^PATCH \/ HTTP\/1\.1\r\n.*content-length: 5\r\n\r\n$/s);
  assert.equal(bodies[1], "12345");
});

Deno.test("a request body shorter than its declared length fails as aborted", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.waitForClose();
    },
    async (send) => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(3));
          c.close();
        },
      });
      await assert.rejects(
        send({ method: "PUT", body, bodyLength: 10 }),
        isKind("aborted", /3 of 10/),
      );
    },
  );
});

Deno.test("a request body stream that errors fails the exchange as aborted", async () => {
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.waitForClose();
    },
    async (send) => {
      let calls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (calls++ === 0) c.enqueue(new Uint8Array(3));
          else c.error(new Error("client went away"));
        },
      });
      await assert.rejects(
        send({ method: "POST", body, bodyLength: -1 }),
        isKind("aborted", /client went away/),
      );
    },
  );
});

Deno.test("invalid request parts are rejected before anything is sent", async () => {
  await withRawServer(answerEach("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), async (send) => {
    const invalid: Partial<OutboundRequest>[] = [
      { path: "/a b" },
      { path: "/a\u007f" },
      { path: "/caf\u00e9" },
      { path: "relative" },
      { method: "GE T" },
      { headers: ["x-a", "one\r\nx-injected: 1"] },
      { headers: ["x-a", "nul\u0000"] },
      { headers: ["x-a", "wide \u20ac"] },
      { headers: ["bad name", "1"] },
      { headers: ["x-a"] },
    ];
    for (const over of invalid) {
      await assert.rejects(send(over), TypeError, JSON.stringify(over));
    }
    // The connection that took those rejections is still good.
    assert.equal((await send()).status, 200);
  });
});

Deno.test("idle connections are closed after idleTimeoutMs", async () => {
  let closedByClient!: () => void;
  const closed = new Promise<void>((resolve) => closedByClient = resolve);
  await withRawServer(
    async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
      await conn.waitForClose();
      closedByClient();
    },
    async (send) => {
      assert.equal(await bodyText((await send()).body), "hi");
      // Resolves only when the pool's sweep closed the idle connection.
      await closed;
    },
    { maxIdlePerTarget: 8, idleTimeoutMs: 30 },
  );
});

Deno.test("no more than maxIdlePerTarget connections are kept", async () => {
  await withRawServer(
    answerEach("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"),
    async (send, server) => {
      const three = await Promise.all([send(), send(), send()]);
      assert.equal(server.accepted, 3);
      for (const res of three) assert.equal(await bodyText(res.body), "hi");
      await Promise.all([send(), send(), send()]);
      // Two came back from the pool, one had to be opened.
      assert.equal(server.accepted, 4);
    },
    { maxIdlePerTarget: 2, idleTimeoutMs: 30_000 },
  );
});

/**
 * One connect against a listening socket with backlog 0 that never accepts: once its queue is
 * full the kernel drops further SYNs, so connecting hangs, which is what an unreachable host
 * looks like. (Deno.listen cannot set a backlog, hence python.) Returns how the send failed.
 */
async function connectToFullQueue(client: Http1Client): Promise<UpstreamError> {
  const python = new Deno.Command("python3", {
    args: [
      "-c",
      "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\n" +
      "print(s.getsockname()[1],flush=True)\nsys.stdin.read()",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const fillers: Deno.Conn[] = [];
  try {
    const reader = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = Number((await reader.read()).value);
    reader.cancel();
    // With backlog 0 the queue holds exactly one unaccepted connection: take that place.
    fillers.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    try {
      await client.send(targetFor(port), request(port), { ...relaxed, connectMs: 100 });
    } catch (e) {
      assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
      return e;
    }
    throw new Error("a connect to a full accept queue succeeded");
  } finally {
    for (const c of fillers) c.close();
    await python.stdin.close();
    await python.status;
  }
}

Deno.test("connect timeout against a listener whose accept queue is full", async () => {
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  try {
    // On a loaded machine the kernel now and then refuses the SYN (RST) instead of dropping it
    // (seen in 2 of ~12 full runs): the hang this test needs was not set up, so it is set up
    // again, up to three times. A client that reports a hang as anything but connect_timeout,
    // or never gives up, still fails every time.
    let failure = await connectToFullQueue(client);
    for (let i = 0; i < 2 && failure.kind === "connect" && /refused/i.test(failure.message); i++) {
      failure = await connectToFullQueue(client);
    }
    assert.equal(failure.kind, "connect_timeout", failure.message);
  } finally {
    client.close();
  }
});

Deno.test("a failed connect leaves the request body unread, so a caller may retry elsewhere", async () => {
  const port = unusedPort();
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: 30_000 });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("still here"));
      c.close();
    },
  });
  try {
    await assert.rejects(
      client.send(
        targetFor(port),
        request(port, { method: "POST", body, bodyLength: -1 }),
        relaxed,
      ),
      isKind("connect"),
    );
    assert.equal(body.locked, false);
    assert.equal(await new Response(body).text(), "still here");
  } finally {
    client.close();
  }
});
