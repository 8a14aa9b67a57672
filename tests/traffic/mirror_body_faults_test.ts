/**
 * Mirrored request bodies under hostile conditions: a client that drops mid-upload,
 * a shadow that resets its connections, and a shadow that answers without reading a large body.
 * In each case the primary must get (or not get) the whole body as if no mirror existed, and the
 * route's mirror slot must come back.
 */
import assert from "node:assert/strict";
import { portOf, within } from "../helpers/gateway.ts";
import { startMirrorGateway } from "./mirror_fixture.ts";
import { finished, pollMirror, type ShadowSeen } from "./mirror_helpers.ts";

const MB = 1 << 20;

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** A `Deno.serve` upstream recording each request with its body bytes. */
function recordingUpstream(answer: () => Response = () => new Response("primary")) {
  const seen: ShadowSeen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    seen.push({ method: req.method, path: new URL(req.url).pathname, headers: req.headers, body });
    return answer();
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/**
 * A TCP shadow that reads the start of each request and then closes the connection: a reset
 * (or a crash) in the middle of the exchange.
 */
function resettingShadow() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const loop = (async () => {
    for await (const conn of listener) {
      accepted++;
      conns.add(conn);
      (async () => {
        try {
          await conn.read(new Uint8Array(1024));
        } catch {
          // the gateway may close first
        }
        conns.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
      })();
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await loop.catch(() => {});
    },
  };
}

Deno.test("mirror: a client dropping mid-upload frees its mirror slot and reaches no upstream", async () => {
  const primary = recordingUpstream();
  const shadow = recordingUpstream(() => new Response("shadow"));
  const gw = await startMirrorGateway({
    primary: primary.url,
    shadow: shadow.url,
    mirror: { maxConcurrent: 1, maxBodyBytes: MB },
  });
  try {
    // Half of a declared 100,000-byte body, then the client goes away.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(gw) });
    await conn.write(
      new TextEncoder().encode(
        "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n" + "a".repeat(50_000),
      ),
    );
    conn.close();
    const after = await pollMirror(gw.adminUrl!, "api", finished(1));
    assert.deepEqual(after.requests, { sent: 0, dropped: 0, skipped: 1, error: 0 });

    // With maxConcurrent 1, a slot kept by the dropped upload would make this a drop.
    const body = randomBytes(1000);
    const res = await fetch(`${gw.url}/next`, { method: "POST", body });
    assert.equal(await res.text(), "primary");
    const done = await pollMirror(gw.adminUrl!, "api", finished(2));
    assert.deepEqual(done.requests, { sent: 1, dropped: 0, skipped: 1, error: 0 });
    assert.deepEqual(primary.seen.map((r) => r.path), ["/next"]);
    assert.deepEqual(shadow.seen.map((r) => r.path), ["/next"]);
    assert.deepEqual(shadow.seen[0].body, body);
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror: a shadow that resets its connections leaves the primary's body whole", async () => {
  const primary = recordingUpstream();
  const shadow = resettingShadow();
  // No breaker or ejection in the way: every copy really goes to the resetting shadow.
  const gw = await startMirrorGateway({
    primary: primary.url,
    shadow: shadow.url,
    mirror: { maxBodyBytes: 4 * MB },
  });
  try {
    const bodies = [randomBytes(3 * MB), randomBytes(10), randomBytes(200_000)];
    for (const [i, body] of bodies.entries()) {
      const res = await fetch(`${gw.url}/r${i}`, { method: "PUT", body });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "primary");
    }
    const s = await pollMirror(gw.adminUrl!, "api", (s) => s.inFlight === 0 && finished(3)(s));
    assert.equal(s.requests.sent + s.requests.error, 3, JSON.stringify(s.requests));
    assert.ok(s.requests.error >= 1, `resets count as errors: ${JSON.stringify(s.requests)}`);
    assert.ok(shadow.accepted >= 1);
    for (const [i, body] of bodies.entries()) {
      const got = primary.seen.find((r) => r.path === `/r${i}`)!;
      assert.equal(got.headers.get("content-length"), String(body.length));
      assert.equal(got.headers.get("transfer-encoding"), null);
      assert.deepEqual(got.body, body);
    }
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror: a shadow answering a 3 MB upload unread gets no hang; the primary gets it all", async () => {
  const primary = recordingUpstream();
  // Answers at once without touching the body; Deno then drops the rest of the upload.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("too big", { status: 413 }),
  );
  const gw = await startMirrorGateway({
    primary: primary.url,
    shadow: `http://127.0.0.1:${server.addr.port}`,
    mirror: { maxBodyBytes: 4 * MB },
  });
  try {
    const body = randomBytes(3 * MB);
    const res = await fetch(`${gw.url}/big`, { method: "POST", body });
    assert.equal(await res.text(), "primary");
    await within(
      pollMirror(gw.adminUrl!, "api", finished(1)),
      15_000,
      "the mirror of an upload the shadow never read",
    );
    assert.deepEqual(primary.seen[0].body, body);
  } finally {
    await gw.close();
    await server.shutdown();
    await primary.close();
  }
});
