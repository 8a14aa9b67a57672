/**
 * `limits.maxBodyBytes` bounds request bodies: a declared Content-Length over the limit is
 * refused before anything is sent upstream, and a chunked body is cut off (and refused) once it
 * passes the limit while streaming.
 */
import assert from "node:assert/strict";
import { catchAll, readProblem, startTestGateway, startUpstream } from "../helpers/gateway.ts";

const LIMIT = 1000;

/** An upstream that counts the body bytes it gets; a cut-off body is recorded, not thrown. */
function countingUpstream() {
  const bodies: { bytes: number; complete: boolean }[] = [];
  const upstream = startUpstream(async (req) => {
    let bytes = 0;
    try {
      for await (const chunk of req.body ?? []) bytes += chunk.length;
    } catch {
      bodies.push({ bytes, complete: false });
      return new Response(null, { status: 400 });
    }
    bodies.push({ bytes, complete: true });
    return Response.json({ bytes });
  });
  return { upstream, bodies };
}

/** A chunked (length-less) body of `total` bytes, sent in 500-byte pieces. */
function streamed(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(500, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(0x61));
    },
  });
}

async function withLimit(
  fn: (url: string, bodies: { bytes: number; complete: boolean }[]) => Promise<void>,
  /** Runs after gateway and upstream closed, so every request has been seen by then. */
  after?: (calls: number, bodies: { bytes: number; complete: boolean }[]) => void,
): Promise<void> {
  const { upstream, bodies } = countingUpstream();
  const gw = await startTestGateway(catchAll(upstream.url, { limits: { maxBodyBytes: LIMIT } }));
  try {
    await fn(gw.url, bodies);
  } finally {
    await gw.close();
    await upstream.close();
  }
  after?.(upstream.received.length, bodies);
}

Deno.test("a declared body over the limit is a 413 problem and the upstream is not called", async () => {
  await withLimit(
    async (url) => {
      const res = await fetch(`${url}/up`, { method: "POST", body: new Uint8Array(2 * LIMIT) });
      assert.equal(res.status, 413);
      assert.equal((await readProblem(res)).type, "https://ferry.dev/problems/payload-too-large");
    },
    (count) => assert.equal(count, 0, "the upstream was called"),
  );
});

Deno.test("a chunked body that passes the limit while streaming is a 413 problem", async () => {
  await withLimit(
    async (url) => {
      const res = await fetch(`${url}/up`, { method: "POST", body: streamed(2 * LIMIT) });
      assert.equal(res.status, 413);
      assert.equal((await readProblem(res)).type, "https://ferry.dev/problems/payload-too-large");
    },
    (_calls, bodies) => {
      // Whatever reached the upstream before the cut was never a complete body.
      for (const body of bodies) {
        assert.equal(body.complete, false, "the upstream got the whole over-limit body");
        assert.ok(body.bytes <= LIMIT, `${body.bytes} bytes passed a ${LIMIT}-byte limit`);
      }
    },
  );
});

Deno.test("bodies exactly at the limit pass, declared and chunked", async () => {
  await withLimit(async (url) => {
    const declared = await fetch(`${url}/up`, { method: "POST", body: new Uint8Array(LIMIT) });
    assert.equal(declared.status, 200);
    assert.deepEqual(await declared.json(), { bytes: LIMIT });
    const chunked = await fetch(`${url}/up`, { method: "POST", body: streamed(LIMIT) });
    assert.equal(chunked.status, 200);
    assert.deepEqual(await chunked.json(), { bytes: LIMIT });
  });
});
