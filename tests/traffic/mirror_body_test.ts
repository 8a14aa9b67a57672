/**
 * Issue 7 acceptance, request bodies: a body with a Content-Length up to the mirror's limit
 * reaches the shadow byte for byte (and the primary too, from the same bytes); a larger body or
 * one of unknown length is not mirrored and counts as skipped, and the primary still gets it.
 * Also what marks a copy: its own request id, the original's id, and the shadow's Host rule.
 */
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.ts";
import { finished, metricValue, pollMirror, type ShadowSeen } from "./mirror_helpers.ts";

const LIMIT = 4096;

/** A `Deno.serve` upstream recording each request with its body bytes. */
function recordingUpstream(name: string) {
  const seen: ShadowSeen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    seen.push({ method: req.method, path: new URL(req.url).pathname, headers: req.headers, body });
    return new Response(name);
  });
  return { seen, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("mirror: bodies up to maxBodyBytes are copied byte for byte; larger or chunked ones are skipped", async () => {
  const primary = recordingUpstream("primary");
  const shadow = recordingUpstream("shadow");
  const gw = await startTestGateway({
    upstreams: {
      api: { targets: [primary.url] },
      shadow: { targets: [shadow.url], host: "shadow.internal" },
    },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", maxBodyBytes: LIMIT } }],
  });
  try {
    const atLimit = randomBytes(LIMIT);
    const overLimit = randomBytes(LIMIT + 1);
    const chunked = randomBytes(100);
    const send = async (path: string, init: RequestInit) => {
      const res = await fetch(`${gw.url}${path}`, {
        ...init,
        headers: { "x-request-id": `client${path.replaceAll("/", "-")}` },
      });
      assert.equal(await res.text(), "primary");
    };
    await send("/at-limit", { method: "POST", body: atLimit });
    await send("/over-limit", { method: "POST", body: overLimit });
    await send("/chunked", {
      method: "POST",
      body: ReadableStream.from([chunked]),
      duplex: "half",
    } as RequestInit);
    await send("/empty", { method: "POST", body: new Uint8Array() });
    await send("/get", { method: "GET" });

    const s = await pollMirror(gw.adminUrl!, "api", finished(5));
    assert.deepEqual(s.requests, { sent: 3, dropped: 0, skipped: 2, error: 0 });
    assert.equal(
      await metricValue(gw.adminUrl!, `ferry_mirror_requests_total{route="api",result="skipped"}`),
      2,
    );

    // The primary got every body whole, mirrored or not.
    const primaryBody = (path: string) => primary.seen.find((r) => r.path === path)!.body;
    assert.deepEqual(primaryBody("/at-limit"), atLimit);
    assert.deepEqual(primaryBody("/over-limit"), overLimit);
    assert.deepEqual(primaryBody("/chunked"), chunked);

    // The shadow got the copies of the three that fit, identical bytes, marked as copies.
    const copies = [...shadow.seen].sort((a, b) => a.path.localeCompare(b.path));
    assert.deepEqual(copies.map((c) => [c.method, c.path]), [
      ["POST", "/at-limit"],
      ["POST", "/empty"],
      ["GET", "/get"],
    ]);
    assert.deepEqual(copies[0].body, atLimit);
    assert.equal(copies[0].headers.get("content-length"), String(LIMIT));
    assert.equal(copies[1].body.length, 0);
    for (const copy of copies) {
      const original = `client${copy.path.replaceAll("/", "-")}`;
      assert.equal(copy.headers.get("x-ferry-mirror"), "1");
      assert.equal(copy.headers.get("x-ferry-mirror-of"), original);
      const id = copy.headers.get("x-request-id");
      assert.ok(id && id !== original, `the copy has its own request id, got ${id}`);
      assert.equal(copy.headers.get("host"), "shadow.internal");
    }
    // The primary was not marked.
    assert.equal(primary.seen.filter((r) => r.headers.has("x-ferry-mirror")).length, 0);
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror: a client cannot forge the mirror marks", async () => {
  const primary = recordingUpstream("primary");
  const shadow = recordingUpstream("shadow");
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow" } }],
  });
  try {
    const res = await fetch(`${gw.url}/x`, {
      headers: { "x-request-id": "real", "x-ferry-mirror": "forged", "x-ferry-mirror-of": "other" },
    });
    await res.arrayBuffer();
    await pollMirror(gw.adminUrl!, "api", finished(1));
    const [copy] = shadow.seen;
    assert.equal(copy.headers.get("x-ferry-mirror"), "1");
    assert.equal(copy.headers.get("x-ferry-mirror-of"), "real");
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
