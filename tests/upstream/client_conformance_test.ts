/**
 * The contract every `UpstreamClient` keeps, run against each implementation with real
 * upstreams: nginx, `node:http`, `Deno.serve` and a hand-written TCP server.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { gunzipSync, gzipSync } from "node:zlib";
import { type UpstreamClient, UpstreamError } from "../../src/upstream/client.ts";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { startDenoServer } from "./servers/deno_server.ts";
import { startNginx } from "./servers/nginx.ts";
import { startNodeServer } from "./servers/node_server.ts";
import { startRawServer } from "./servers/raw_server.ts";
import {
  bodyBytes,
  bodyText,
  header,
  pattern,
  relaxed,
  request,
  targetFor,
  unusedPort,
} from "./servers/target.ts";

export interface ClientUnderTest {
  name: string;
  make(): UpstreamClient;
  /**
   * How a gzip response reaches a caller that accepts gzip: `false` byte-exact with its
   * content-encoding and content-length, `true` decoded with both headers removed.
   */
  decodesGzip: boolean;
  /**
   * Whether a small body with a content-length is read whole before `send` resolves, so that
   * its failures (stall, cut, abort) reject `send` instead of erroring the body stream.
   */
  buffersSmallBodies: boolean;
  /** Whether a streamed body of known length goes out with content-length (else chunked). */
  sendsDeclaredLength: boolean;
}

const MiB = 1024 * 1024;
const ONE_K = pattern(1024);
const TEXT = "The quick brown fox jumps over the lazy dog.\n".repeat(200);

function isKind(kind: UpstreamError["kind"]) {
  return (e: unknown) => {
    assert.ok(e instanceof UpstreamError, `expected an UpstreamError, got ${e}`);
    assert.equal(e.kind, kind, e.message);
    return true;
  };
}

/** A request body the test feeds chunk by chunk. */
function pushable() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    stream,
    push: (chunk: Uint8Array) => controller.enqueue(chunk),
    end: () => controller.close(),
  };
}

export function clientConformance(c: ClientUnderTest): void {
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`${c.name}: ${name}`, fn);

  test("GET of a 1 KiB file from nginx", async () => {
    const nginx = await startNginx({ files: { "one-k.bin": ONE_K } });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(nginx.port),
        request(nginx.port, { path: "/one-k.bin" }),
        relaxed,
      );
      assert.equal(res.status, 200);
      assert.equal(res.statusText, "OK");
      assert.equal(header(res.headers, "content-length"), "1024");
      assert.deepEqual(await bodyBytes(res.body), ONE_K);
    } finally {
      client.close();
      await nginx.close();
    }
  });

  test("an 8 MiB body from nginx streams through intact", async () => {
    const big = pattern(8 * MiB, 7);
    const nginx = await startNginx({ files: { "big.bin": big } });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(nginx.port),
        request(nginx.port, { path: "/big.bin" }),
        relaxed,
      );
      assert.equal(res.status, 200);
      assert.ok(res.body instanceof ReadableStream, "a large body must be a stream");
      let offset = 0;
      let chunks = 0;
      for await (const chunk of res.body) {
        assert.deepEqual(chunk, big.subarray(offset, offset + chunk.length), `at ${offset}`);
        offset += chunk.length;
        chunks++;
      }
      assert.equal(offset, big.length);
      assert.ok(chunks > 1, "delivered in pieces, not buffered whole");
    } finally {
      client.close();
      await nginx.close();
    }
  });

  for (const framing of ["chunked", "content-length"] as const) {
    test(`body data reaches the caller before the upstream finished (${framing})`, async () => {
      const piece = pattern(64 * 1024, 3);
      const pieces = 128;
      let firstSeen!: () => void;
      const seen = new Promise<void>((resolve) => firstSeen = resolve);
      const server = await startNodeServer(async (_req, res) => {
        const headers: Record<string, string> = { "content-type": "application/octet-stream" };
        if (framing === "content-length") headers["content-length"] = String(piece.length * pieces);
        res.writeHead(200, headers);
        res.write(piece);
        // The rest is only written once the client has seen the first piece: a client that
        // buffered the body would wait here forever.
        await seen;
        for (let i = 1; i < pieces; i++) {
          if (!res.write(piece)) await once(res, "drain");
        }
        res.end();
      });
      const client = c.make();
      try {
        const res = await client.send(targetFor(server.port), request(server.port), relaxed);
        assert.ok(res.body instanceof ReadableStream);
        let total = 0;
        for await (const chunk of res.body) {
          if (total === 0) firstSeen();
          for (let i = 0; i < chunk.length; i += 4099) {
            assert.equal(chunk[i], piece[(total + i) % piece.length]);
          }
          total += chunk.length;
        }
        assert.equal(total, piece.length * pieces);
      } finally {
        firstSeen();
        client.close();
        await server.close();
      }
    });
  }

  for (const known of [false, true]) {
    test(`a streamed POST body is echoed chunk by chunk (${known ? "known" : "unknown"} length)`, async () => {
      const chunks = [pattern(10, 1), pattern(70 * 1024, 2), pattern(1, 3), pattern(5000, 4)];
      const total = chunks.reduce((n, b) => n + b.length, 0);
      const seen: Record<string, string | undefined> = {};
      const server = await startNodeServer((req, res) => {
        seen.te = req.headers["transfer-encoding"];
        seen.cl = req.headers["content-length"];
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.flushHeaders();
        req.on("data", (data) => res.write(data));
        req.on("end", () => res.end());
      });
      const client = c.make();
      const body = pushable();
      try {
        body.push(chunks[0]);
        const res = await client.send(
          targetFor(server.port),
          request(server.port, {
            method: "POST",
            path: "/echo",
            body: body.stream,
            bodyLength: known ? total : -1,
          }),
          relaxed,
        );
        assert.equal(res.status, 200);
        assert.ok(res.body instanceof ReadableStream);
        const reader = res.body.getReader();
        const received: Uint8Array[] = [];
        let got = 0;
        let expected = chunks[0].length;
        // Chunk i+1 is sent only after chunk i came back: the request is not buffered whole.
        for (let i = 0; i < chunks.length; i++) {
          while (got < expected) {
            const { done, value } = await reader.read();
            assert.ok(!done, "echo ended early");
            received.push(value);
            got += value.length;
          }
          if (i + 1 < chunks.length) {
            body.push(chunks[i + 1]);
            expected += chunks[i + 1].length;
          }
        }
        body.end();
        assert.ok((await reader.read()).done);
        assert.deepEqual(concat(received), concat(chunks));
        if (known && c.sendsDeclaredLength) {
          assert.equal(seen.cl, String(total));
          assert.equal(seen.te, undefined);
        } else {
          assert.equal(seen.te, "chunked");
          assert.equal(seen.cl, undefined);
        }
      } finally {
        client.close();
        await server.close();
      }
    });
  }

  test("a Uint8Array body goes out with its content-length", async () => {
    const server = startDenoServer(async (req) =>
      new Response(
        JSON.stringify({
          cl: req.headers.get("content-length"),
          body: await req.text(),
        }),
      )
    );
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(server.port),
        request(server.port, {
          method: "PUT",
          body: new TextEncoder().encode("héllo"),
          bodyLength: 6,
        }),
        relaxed,
      );
      assert.deepEqual(JSON.parse(await bodyText(res.body)), { cl: "6", body: "héllo" });
    } finally {
      client.close();
      await server.close();
    }
  });

  test("a POST without a body says content-length: 0", async () => {
    const server = startDenoServer((req) =>
      new Response(`${req.headers.get("content-length")} ${req.headers.get("transfer-encoding")}`)
    );
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(server.port),
        request(server.port, { method: "POST" }),
        relaxed,
      );
      assert.equal(await bodyText(res.body), "0 null");
    } finally {
      client.close();
      await server.close();
    }
  });

  test("a chunked response is decoded", async () => {
    const server = await startNodeServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("alpha ");
      res.write("beta ");
      res.end("gamma");
    });
    const client = c.make();
    try {
      const res = await client.send(targetFor(server.port), request(server.port), relaxed);
      assert.equal(res.status, 200);
      assert.equal(await bodyText(res.body), "alpha beta gamma");
    } finally {
      client.close();
      await server.close();
    }
  });

  test("HEAD, 204 and 304 have no body", async () => {
    const nginx = await startNginx({
      files: { "one-k.bin": ONE_K },
      server: "location = /empty { return 204; }",
    });
    const client = c.make();
    const target = targetFor(nginx.port);
    try {
      const head = await client.send(
        target,
        request(nginx.port, { method: "HEAD", path: "/one-k.bin" }),
        relaxed,
      );
      assert.equal(head.status, 200);
      assert.equal(head.body, null);
      assert.equal(header(head.headers, "content-length"), "1024");
      const etag = header(head.headers, "etag");
      assert.ok(etag);

      const empty = await client.send(target, request(nginx.port, { path: "/empty" }), relaxed);
      assert.equal(empty.status, 204);
      assert.equal(empty.body, null);

      const notModified = await client.send(
        target,
        request(nginx.port, {
          path: "/one-k.bin",
          headers: ["host", `127.0.0.1:${nginx.port}`, "if-none-match", etag],
        }),
        relaxed,
      );
      assert.equal(notModified.status, 304);
      assert.equal(notModified.body, null);

      // The connection survived all three: a normal GET still works.
      const after = await client.send(target, request(nginx.port, { path: "/one-k.bin" }), relaxed);
      assert.deepEqual(await bodyBytes(after.body), ONE_K);
    } finally {
      client.close();
      await nginx.close();
    }
  });

  test("keep-alive: 20 sequential requests use one connection", async () => {
    const server = await startNodeServer((req, res) => res.end(`hello ${req.url}`));
    const client = c.make();
    try {
      for (let i = 0; i < 20; i++) {
        const res = await client.send(
          targetFor(server.port),
          request(server.port, { path: `/${i}` }),
          relaxed,
        );
        assert.equal(await bodyText(res.body), `hello /${i}`);
      }
      assert.equal(server.connections, 1);
    } finally {
      client.close();
      await server.close();
    }
  });

  test("abortInFlight ends an exchange still waiting for its head, and later sends are refused", async () => {
    let arrived!: () => void;
    const waiting = new Promise<void>((resolve) => arrived = resolve);
    // Reads the request and never answers, as a hung upstream would.
    const server = await startNodeServer(() => arrived());
    const client = c.make();
    try {
      const sent = client.send(targetFor(server.port), request(server.port), relaxed);
      const failure = sent.then(() => "answered", (e) => e);
      await waiting;
      client.abortInFlight();
      const error = await failure;
      assert.ok(error instanceof UpstreamError, `${error}`);
      assert.equal(error.kind, "reset");
      await assert.rejects(
        () => client.send(targetFor(server.port), request(server.port), relaxed),
        "a client whose exchanges were aborted takes no more",
      );
    } finally {
      client.abortInFlight(); // a second time changes nothing
      await server.close();
    }
  });

  test("a redirect is returned, not followed", async () => {
    const nginx = await startNginx({
      files: { "one-k.bin": ONE_K },
      server: "location = /moved { return 302 /one-k.bin; }",
    });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(nginx.port),
        request(nginx.port, { path: "/moved" }),
        relaxed,
      );
      assert.equal(res.status, 302);
      assert.match(header(res.headers, "location") ?? "", /\/one-k\.bin$/);
      const body = await bodyText(res.body);
      assert.match(body, /302/);
    } finally {
      client.close();
      await nginx.close();
    }
  });

  test(`gzip from nginx reaches a caller that accepts it ${c.decodesGzip ? "decoded" : "byte-exact"}`, async () => {
    const nginx = await startNginx({
      files: { "text.txt": TEXT },
      server: "gzip on; gzip_types text/plain; gzip_min_length 1;",
    });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(nginx.port),
        request(nginx.port, {
          path: "/text.txt",
          headers: ["host", `127.0.0.1:${nginx.port}`, "accept-encoding", "gzip"],
        }),
        relaxed,
      );
      assert.equal(res.status, 200);
      const body = await bodyBytes(res.body);
      assertGzipOutcome(c.decodesGzip, res.headers, body, TEXT);
    } finally {
      client.close();
      await nginx.close();
    }
  });

  test(`gzip with a content-length reaches the caller ${c.decodesGzip ? "decoded" : "byte-exact"}`, async () => {
    const gz = gzipSync(new TextEncoder().encode(TEXT));
    const server = await startNodeServer((_req, res) => {
      res.writeHead(200, {
        "content-type": "text/plain",
        "content-encoding": "gzip",
        "content-length": gz.length,
      });
      res.end(gz);
    });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(server.port),
        request(server.port, {
          headers: ["host", `127.0.0.1:${server.port}`, "accept-encoding", "gzip, br"],
        }),
        relaxed,
      );
      const body = await bodyBytes(res.body);
      assertGzipOutcome(c.decodesGzip, res.headers, body, TEXT);
      if (!c.decodesGzip) assert.deepEqual(body, new Uint8Array(gz));
    } finally {
      client.close();
      await server.close();
    }
  });

  test("without accept-encoding the body arrives as the upstream sent it", async () => {
    const nginx = await startNginx({
      files: { "text.txt": TEXT },
      server: "gzip on; gzip_types text/plain; gzip_min_length 1;",
    });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(nginx.port),
        request(nginx.port, { path: "/text.txt" }),
        relaxed,
      );
      assert.equal(header(res.headers, "content-encoding"), undefined);
      assert.equal(await bodyText(res.body), TEXT);
    } finally {
      client.close();
      await nginx.close();
    }
  });

  test("the caller's host header reaches the upstream", async () => {
    const server = startDenoServer((req) => new Response(req.headers.get("host")));
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(server.port),
        request(server.port, { headers: ["host", "api.example.test", "x-id", "7"] }),
        relaxed,
      );
      assert.equal(await bodyText(res.body), "api.example.test");
    } finally {
      client.close();
      await server.close();
    }
  });

  test("Latin-1 header values survive both directions", async () => {
    // Header values are ByteStrings: U+00E9 is the single byte 0xE9 on the wire, not UTF-8.
    let seen = "";
    const server = startRawServer(async (conn) => {
      const head = (await conn.readHead()) ?? "";
      seen = /\r\nx-in: ([^\r]*)\r\n/i.exec(head)?.[1] ?? "";
      await conn.write("HTTP/1.1 200 OK\r\nx-out: caf\u00e9 \u00ff\r\ncontent-length: 2\r\n\r\nok");
      await conn.waitForClose();
    });
    const client = c.make();
    try {
      const res = await client.send(
        targetFor(server.port),
        request(server.port, {
          headers: ["host", `127.0.0.1:${server.port}`, "x-in", "na\u00efve"],
        }),
        relaxed,
      );
      assert.equal(header(res.headers, "x-out"), "caf\u00e9 \u00ff");
      assert.equal(await bodyText(res.body), "ok");
      assert.equal(seen, "na\u00efve");
    } finally {
      client.close();
      await server.close();
    }
  });

  test("connection refused is a connect error", async () => {
    const port = unusedPort();
    const client = c.make();
    try {
      await assert.rejects(client.send(targetFor(port), request(port), relaxed), isKind("connect"));
    } finally {
      client.close();
    }
  });

  test("an upstream closing without a response is a reset", async () => {
    const server = startRawServer(async (conn) => {
      await conn.readHead();
      await conn.write("HTTP/1.1 200 O");
      conn.close();
    });
    const client = c.make();
    try {
      await assert.rejects(
        client.send(targetFor(server.port), request(server.port), relaxed),
        isKind("reset"),
      );
    } finally {
      client.close();
      await server.close();
    }
  });

  test("a malformed response head is a protocol error", async () => {
    for (const head of ["ICY 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nx: a\r\n b\r\n\r\n"]) {
      const server = startRawServer(async (conn) => {
        await conn.readHead();
        await conn.write(head);
        await conn.waitForClose();
      });
      const client = c.make();
      try {
        await assert.rejects(
          client.send(targetFor(server.port), request(server.port), relaxed),
          isKind("protocol"),
          JSON.stringify(head),
        );
      } finally {
        client.close();
        await server.close();
      }
    }
  });

  for (const size of ["small", "large"] as const) {
    const length = size === "small" ? 100 : 1_000_000;
    const whole = size === "small" && c.buffersSmallBodies;

    test(`a ${size} body cut short by the upstream fails with reset`, async () => {
      const server = startRawServer(async (conn) => {
        await conn.readHead();
        await conn.write(`HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\n\r\nshort`);
        conn.close();
      });
      const client = c.make();
      try {
        const sent = client.send(targetFor(server.port), request(server.port), relaxed);
        if (whole) {
          await assert.rejects(sent, isKind("reset"));
        } else {
          const res = await sent;
          assert.ok(res.body instanceof ReadableStream);
          await assert.rejects(bodyBytes(res.body), isKind("reset"));
        }
      } finally {
        client.close();
        await server.close();
      }
    });

    test(`a stalled ${size} body fails with an idle timeout`, async () => {
      const server = startRawServer(async (conn) => {
        await conn.readHead();
        await conn.write(`HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\n\r\nhello`);
        await conn.waitForClose();
      });
      const client = c.make();
      try {
        const sent = client.send(
          targetFor(server.port),
          request(server.port),
          { ...relaxed, idleMs: 150 },
        );
        if (whole) {
          await assert.rejects(sent, isKind("timeout"));
        } else {
          const res = await sent;
          assert.ok(res.body instanceof ReadableStream);
          await assert.rejects(bodyBytes(res.body), isKind("timeout"));
        }
      } finally {
        client.close();
        await server.close();
      }
    });

    test(`aborting the signal inside a ${size} body fails with aborted`, async () => {
      let wrote!: () => void;
      const written = new Promise<void>((resolve) => wrote = resolve);
      let clientClosed = false;
      const server = startRawServer(async (conn) => {
        await conn.readHead();
        await conn.write(`HTTP/1.1 200 OK\r\ncontent-length: ${length}\r\n\r\nfirst`);
        wrote();
        await conn.waitForClose();
        clientClosed = true;
      });
      const client = c.make();
      const abort = new AbortController();
      try {
        const sent = client.send(
          targetFor(server.port),
          request(server.port, { signal: abort.signal }),
          relaxed,
        );
        if (whole) {
          await written;
          abort.abort();
          await assert.rejects(sent, isKind("aborted"));
        } else {
          const res = await sent;
          assert.ok(res.body instanceof ReadableStream);
          const reader = res.body.getReader();
          assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
          abort.abort();
          await assert.rejects(reader.read(), isKind("aborted"));
        }
      } finally {
        client.close();
        await server.close();
      }
      assert.ok(clientClosed, "the upstream connection was closed");
    });
  }

  test("an upstream that never answers times out at totalMs", async () => {
    const server = startRawServer(async (conn) => {
      await conn.readHead();
      await conn.waitForClose();
    });
    const client = c.make();
    try {
      await assert.rejects(
        client.send(targetFor(server.port), request(server.port), { ...relaxed, totalMs: 150 }),
        isKind("timeout"),
      );
    } finally {
      client.close();
      await server.close();
    }
  });

  test("aborting the signal while waiting for the head rejects with aborted", async () => {
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => received = resolve);
    let clientClosed = false;
    const server = startRawServer(async (conn) => {
      await conn.readHead();
      received();
      await conn.waitForClose();
      clientClosed = true;
    });
    const client = c.make();
    const abort = new AbortController();
    try {
      const sent = client.send(
        targetFor(server.port),
        request(server.port, { signal: abort.signal }),
        relaxed,
      );
      await arrived;
      abort.abort();
      await assert.rejects(sent, isKind("aborted"));
    } finally {
      client.close();
      await server.close();
    }
    assert.ok(clientClosed, "the upstream connection was closed");
  });
}

function assertGzipOutcome(decodes: boolean, headers: string[], body: Uint8Array, text: string) {
  const encoding = header(headers, "content-encoding");
  const length = header(headers, "content-length");
  if (decodes) {
    assert.equal(encoding, undefined, "content-encoding removed with the decoding");
    assert.equal(length, undefined, "content-length of the encoded bytes removed");
    assert.equal(new TextDecoder().decode(body), text);
  } else {
    assert.equal(encoding, "gzip");
    if (length !== undefined) assert.equal(Number(length), body.length);
    assert.equal(new TextDecoder().decode(gunzipSync(body)), text);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

clientConformance({
  name: "Http1Client",
  make: () => new Http1Client({ maxIdlePerTarget: 16, idleTimeoutMs: 30_000 }),
  decodesGzip: false,
  buffersSmallBodies: false,
  sendsDeclaredLength: true,
});
