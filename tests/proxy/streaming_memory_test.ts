/**
 * A 64 MiB body streams through the gateway, upload and download, while memory grows by far
 * less than the body: nothing holds the body whole.
 *
 * How it is measured, and why:
 * - Client, gateway and upstream run in one process, as in every other test here, but in a
 *   fresh one (this file, run with `deno run`): RSS is process-wide, so memory mapped by earlier
 *   tests would otherwise hide (or fake) growth.
 * - The process runs with `--expose-gc` and collects every 4 MiB. Every hop allocates a fresh
 *   buffer per chunk, and V8 collects such external memory only after tens of MiB, so without
 *   this RSS rises by ~80 MiB for ANY streamed body, even client → upstream with no gateway in
 *   between. Collecting keeps RSS near what is live; a body the gateway held cannot be
 *   collected, so holding it still shows.
 * - Measured: streaming grows RSS by ~15–23 MiB; a hop that buffers a 64 MiB body, ~90–135 MiB.
 */
import assert from "node:assert/strict";
import { catchAll, startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

const MiB = 1024 * 1024;
const BODY = 64 * MiB;
const CHUNK = 64 * 1024;
const MAX_GROWTH = 32 * MiB;

type Direction = "upload" | "download";

interface Measurement {
  /** Bytes that arrived at the far end. */
  bytes: number;
  /** Peak RSS minus RSS before the transfer. */
  growth: number;
  /** How the upstream received the upload (chunked: it was not collected first). */
  transferEncoding?: string | null;
}

/** Runs one transfer in this process and measures it. Called in the child process only. */
async function measure(direction: Direction): Promise<Measurement> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  let peak = 0;
  let chunks = 0;
  // Every 64 chunks (4 MiB): note RSS with the garbage still in, then collect it.
  const tick = () => {
    if (++chunks % 64 !== 0) return;
    peak = Math.max(peak, Deno.memoryUsage().rss);
    gc();
  };
  const generate = () => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= BODY) return controller.close();
        sent += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(sent / CHUNK & 0xff));
        tick();
      },
    }, { highWaterMark: 0 });
  };
  const count = async (body: ReadableStream<Uint8Array>) => {
    let bytes = 0;
    for await (const chunk of body) {
      bytes += chunk.length;
      tick();
    }
    return bytes;
  };

  const upstream = startUpstream(async (req) => {
    if (req.method === "GET") return new Response(generate());
    const bytes = await count(req.body!);
    return Response.json({ bytes, transferEncoding: req.headers.get("transfer-encoding") });
  });
  // The default body limit (10 MiB) would stop the upload on purpose; lift it here.
  const gw = await startTestGateway(catchAll(upstream.url, { limits: { maxBodyBytes: 2 * BODY } }));
  try {
    // One small exchange first, so pools, code and buffers that any request needs are in place.
    await (await fetch(`${gw.url}/warm`, { method: "POST", body: "warm" })).text();
    gc();
    const before = Deno.memoryUsage().rss;
    peak = before;
    let result: Omit<Measurement, "growth">;
    if (direction === "upload") {
      const res = await fetch(`${gw.url}/upload`, { method: "POST", body: generate() });
      result = await res.json();
    } else {
      result = { bytes: await count((await fetch(`${gw.url}/download`)).body!) };
    }
    peak = Math.max(peak, Deno.memoryUsage().rss);
    return { ...result, growth: peak - before };
  } finally {
    await gw.close();
    await upstream.close();
  }
}

/** Runs {@link measure} in a fresh `deno run` of this file and returns what it printed. */
async function inFreshProcess(direction: Direction): Promise<Measurement> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      // Loopback only: the child needs nothing else.
      "--allow-net=127.0.0.1",
      new URL(import.meta.url).pathname,
      direction,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    // A bound on the child, so a gateway that deadlocks fails the test instead of hanging it.
    const out = await within(child.output(), 60_000, `the ${direction} child`);
    const stdout = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) {
      throw new Error(`child failed: ${stdout}\n${new TextDecoder().decode(out.stderr)}`);
    }
    return JSON.parse(stdout.split("\n").at(-1)!);
  } catch (e) {
    try {
      child.kill();
    } catch {
      // Already exited.
    }
    throw e;
  }
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

Deno.test("a 64 MiB upload streams through with RSS growth under 32 MiB", async () => {
  const m = await inFreshProcess("upload");
  assert.equal(m.bytes, BODY);
  // No Content-Length from the client: the gateway streamed it on chunked, not collected it.
  assert.equal(m.transferEncoding, "chunked");
  assert.ok(m.growth < MAX_GROWTH, `RSS grew by ${mib(m.growth)} for a ${mib(BODY)} upload`);
});

Deno.test("a 64 MiB download streams through with RSS growth under 32 MiB", async () => {
  const m = await inFreshProcess("download");
  assert.equal(m.bytes, BODY);
  assert.ok(m.growth < MAX_GROWTH, `RSS grew by ${mib(m.growth)} for a ${mib(BODY)} download`);
});

// `deno run` of this file (not `deno test`): be the child process and print one measurement.
if (import.meta.main) {
  console.log(JSON.stringify(await measure(Deno.args[0] as Direction)));
}
