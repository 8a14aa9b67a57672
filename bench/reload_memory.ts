/**
 * Memory over many hot reloads. Each measurement runs in its own child process, so nothing else
 * shares the heap being measured:
 *
 * - `worker`: a file-backed gateway (`serveFile`) in service, reloaded N times through
 *   `reloadFile()`, the file alternating between two valid showcase configs so that every
 *   reload really loads and swaps a snapshot. "In service": before the first sample, the
 *   gateway serves `--warm-requests` requests (default 20,000) to the showcase's demo upstream,
 *   both run by a child process (bench/reload_traffic.ts); the upstream keeps serving the
 *   gateway's health checks during the reloads. `coldSample` is RSS before that traffic.
 *   Loads run in Ferry's reused loader Worker (replaced every 50 loads;
 *   src/config/loader_worker_pool.ts); the result says how many Workers were started.
 * - `loader`: the config loading alone, `importInWorker` N times on the same file, without a
 *   gateway: what loading itself keeps, apart from what building and swapping snapshots does.
 * - `unchanged`: a control. An in-process gateway is given the same config object N times:
 *   validation and hashing run each time, nothing new is kept (the config is unchanged, so no
 *   snapshot is built or swapped). RSS growth here is the process warming up (executable code
 *   paged in, JIT tiers, the allocator reaching its working size), not reloads retaining
 *   anything; the other modes grow by as much over their first reloads.
 * - `naive`: the approach Ferry avoids, for comparison: `import(url + "?v=" + n)` in the main
 *   isolate, then `gateway.reload(module.default)`. Every import is a new module record that V8
 *   never frees.
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/reload_memory.ts [--reloads 1000]` prints a
 * table of RSS at 0, 50, 100, 250, 500 and 1000 reloads for each mode, each sample after a forced
 * full GC (the children always get --expose-gc). With `--child <mode>` it runs one
 * measurement and prints JSON (tests/reload/memory_test.ts uses that).
 */
import { join } from "node:path";
import type { Logger } from "../src/observe/logger.ts";
import { createGateway, serveFile } from "../src/server/gateway.ts";
import {
  importInWorker,
  loaderWorkersRetired,
  loaderWorkersStarted,
} from "../src/config/worker_import.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

/** One RSS sample. */
export interface Sample {
  reloads: number;
  rss: number;
  heapUsed: number;
  /**
   * The part of `rss` that is anonymous memory (what the process allocated), and the part
   * that is file pages (mostly the deno executable's own code and its embedded startup
   * snapshot, paged in the first time a code path runs). Linux only; 0 elsewhere.
   */
  rssAnon: number;
  rssFile: number;
}

/** RssAnon and RssFile from /proc/self/status, in bytes (0 where there is no procfs). */
function rssParts(): { rssAnon: number; rssFile: number } {
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch {
    return { rssAnon: 0, rssFile: 0 };
  }
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rssAnon: kb("RssAnon") * 1024, rssFile: kb("RssFile") * 1024 };
}

/** What is measured: see the module comment. */
export type Mode = "worker" | "loader" | "unchanged" | "naive";
const MODES: readonly Mode[] = ["worker", "loader", "unchanged", "naive"];

/** What a child prints. */
export interface Measurement {
  mode: Mode;
  reloads: number;
  ms: number;
  gcForced: boolean;
  /** Config loader Workers started during the run (0 for `naive`). */
  workersStarted: number;
  /** `worker` only: requests served before the first sample, and how many failed (5xx). */
  warmRequests?: number;
  warmFailed?: number;
  /** `worker` only: RSS after start-up, before the warm-up traffic. */
  coldSample?: Sample;
  samples: Sample[];
}

/**
 * The real showcase (`routes.config.ts`), with its import pointed at Ferry and one header value
 * varied by `variant` (0 or 1), so every reload really loads something different.
 */
const SHOWCASE = Deno.readTextFileSync(new URL("../routes.config.ts", import.meta.url));
function showcaseConfig(variant: number, upstream = "http://127.0.0.1:3000"): string {
  const text = SHOWCASE
    .replace('from "./mod.ts"', `from "${MOD_URL}"`)
    .replace('"http://127.0.0.1:3000"', JSON.stringify(upstream))
    .replace('"x-gateway": "ferry"', `"x-gateway": "ferry-${variant}"`)
    // The demo upstream is not started by the bench: nothing listens or needs to.
    .replace(/^\s*demo: \{ listen:.*$/m, "");
  if (!text.includes(`ferry-${variant}`) || !text.includes(JSON.stringify(upstream))) {
    throw new Error("routes.config.ts changed shape");
  }
  return text;
}

const silent: Logger = { log() {} };

/** `gc` as `--v8-flags=--expose-gc` defines it, with the options V8 accepts. */
type Gc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

async function sample(reloads: number): Promise<Sample> {
  // A retired loader Worker holds its isolate until its thread has exited: wait for that, so a
  // sample taken just after a Worker was replaced does not count memory already being freed.
  await loaderWorkersRetired();
  // With --v8-flags=--expose-gc, collect first so the sample shows what is retained. A plain
  // `gc()` leaves the young generation at the size V8 grew it to under the reload loop's
  // allocation rate (up to ~27 MB here, bounded, and given back when V8's memory reducer runs
  // on an idle process); a "last-resort" collection shrinks it now, so RSS growth between
  // samples is memory really kept, not heap headroom.
  (globalThis as { gc?: Gc }).gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  const { rss, heapUsed } = Deno.memoryUsage();
  return { reloads, rss, heapUsed, ...rssParts() };
}

/** A byte stream's text, line by line. */
async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
}

/**
 * The child that runs the upstream and the warm-up load (bench/reload_traffic.ts). Its output is
 * read line by line: first the upstream's URL, then the load's result.
 */
class TrafficChild {
  private readonly process: Deno.ChildProcess;
  private readonly lines: AsyncIterator<string>;
  private readonly stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor() {
    this.process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        new URL("./reload_traffic.ts", import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.stdin = this.process.stdin.getWriter();
    this.lines = linesOf(this.process.stdout);
  }

  private async nextJson<T>(): Promise<T> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error("the traffic child exited early");
    return JSON.parse(value);
  }

  async upstream(): Promise<string> {
    return (await this.nextJson<{ upstream: string }>()).upstream;
  }

  async send(gateway: string, count: number): Promise<{ sent: number; failed: number }> {
    await this.stdin.write(new TextEncoder().encode(`${gateway} ${count}\n`));
    return await this.nextJson();
  }

  async close(): Promise<void> {
    await this.stdin.close().catch(() => {});
    await this.process.status;
  }
}

/** Runs one measurement in this process. */
async function measure(mode: Mode, reloads: number, at: Set<number>, warmRequests: number) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-reload-memory-" });
  const path = join(dir, "ferry.config.ts");
  const samples: Sample[] = [];
  const started = performance.now();
  const workersBefore = loaderWorkersStarted();
  const traffic = mode === "worker" ? new TrafficChild() : undefined;
  const upstream = await traffic?.upstream();
  const warm: Pick<Measurement, "warmRequests" | "warmFailed" | "coldSample"> = {};
  // Each step saves the other variant, then loads it; a sample follows the steps `at` names.
  const run = async (step: (n: number) => Promise<void>) => {
    if (at.has(0)) samples.push(await sample(0));
    for (let n = 1; n <= reloads; n++) {
      Deno.writeTextFileSync(path, showcaseConfig(n % 2, upstream));
      await step(n);
      if (at.has(n)) samples.push(await sample(n));
    }
  };
  try {
    await Deno.writeTextFile(path, showcaseConfig(0, upstream));
    if (mode === "worker") {
      const gw = await serveFile(path, {
        listen: { hostname: "127.0.0.1", port: 0 },
        admin: false,
        logger: silent,
        demo: false,
        watch: false,
      });
      try {
        warm.coldSample = await sample(0);
        const served = await traffic!.send(gw.url, warmRequests);
        warm.warmRequests = served.sent;
        warm.warmFailed = served.failed;
        await run(async (n) => {
          const outcome = await gw.reloadFile!();
          if (outcome.result !== "success") {
            throw new Error(`reload ${n} did not load: ${JSON.stringify(outcome)}`);
          }
        });
      } finally {
        await gw.close();
      }
    } else if (mode === "loader") {
      await run(async (n) => {
        const outcome = await importInWorker(path);
        if (!outcome.ok) throw new Error(`load ${n} failed: ${outcome.message}`);
      });
    } else if (mode === "unchanged") {
      const config = (await import(new URL(`file://${path}`).href)).default;
      const gw = await createGateway(config, { logger: silent });
      try {
        await run(async (n) => {
          const result = await gw.reload(config);
          if (result.changed) throw new Error(`reload ${n} of the same config changed something`);
        });
      } finally {
        await gw.close();
      }
    } else {
      const url = new URL(`file://${path}`).href;
      const first = await import(`${url}?v=0`);
      const gw = await createGateway(first.default, { logger: silent });
      try {
        await run(async (n) => {
          const module = await import(`${url}?v=${n}`);
          const result = await gw.reload(module.default);
          if (!result.changed) throw new Error(`reload ${n} changed nothing`);
        });
      } finally {
        await gw.close();
      }
    }
  } finally {
    await traffic?.close();
    await Deno.remove(dir, { recursive: true });
  }
  const ms = performance.now() - started;
  const gcForced = typeof (globalThis as { gc?: unknown }).gc === "function";
  const workersStarted = loaderWorkersStarted() - workersBefore;
  return { mode, reloads, ms, gcForced, workersStarted, ...warm, samples } as Measurement;
}

/** The warm-up traffic of `worker` mode when `--warm-requests` does not say. */
const DEFAULT_WARM_REQUESTS = 20_000;

/** Runs one measurement in a child process and returns its JSON. */
export async function measureInChild(
  mode: Mode,
  reloads: number,
  at: number[],
  warmRequests = DEFAULT_WARM_REQUESTS,
): Promise<Measurement> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      Deno.env.get("CHILD_V8_FLAGS") ?? "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--child",
      mode,
      "--reloads",
      String(reloads),
      "--at",
      at.join(","),
      "--warm-requests",
      String(warmRequests),
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(`the ${mode} child exited ${code}:\n${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const mb = (bytes: number) => (bytes / (1 << 20)).toFixed(1);

/** 0, step, 2·step, … up to `last` (and `last` itself). */
export function every(step: number, last: number): number[] {
  const points = Array.from({ length: Math.floor(last / step) + 1 }, (_, i) => i * step);
  return points.at(-1) === last ? points : [...points, last];
}

/**
 * RSS growth from `from` to `to` reloads along the least-squares line through every sample in
 * between. A leak shows as a slope; one sample can sit a few MB high or low (the allocator
 * takes and returns memory in chunks), which a two-sample difference reports as growth.
 */
export function rssTrendGrowth(samples: Sample[], from: number, to: number): number {
  const points = samples.filter((s) => s.reloads >= from && s.reloads <= to);
  if (points.length < 2) return NaN;
  const meanX = points.reduce((a, s) => a + s.reloads, 0) / points.length;
  const meanY = points.reduce((a, s) => a + s.rss, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const s of points) {
    covariance += (s.reloads - meanX) * (s.rss - meanY);
    variance += (s.reloads - meanX) ** 2;
  }
  return (covariance / variance) * (to - from);
}

if (import.meta.main) {
  const args = Deno.args;
  const reloads = Number(flag(args, "--reloads") ?? 1000);
  const child = flag(args, "--child");
  const warmRequests = Number(flag(args, "--warm-requests") ?? DEFAULT_WARM_REQUESTS);
  if (MODES.includes(child as Mode)) {
    const at = new Set((flag(args, "--at") ?? `0,${reloads}`).split(",").map(Number));
    console.log(JSON.stringify(await measure(child as Mode, reloads, at, warmRequests)));
  } else {
    const at = [0, 50, 100, 250, 500, 1000].filter((n) => n <= reloads);
    if (!at.includes(reloads)) at.push(reloads);
    const results: Measurement[] = [];
    for (const mode of MODES) {
      console.error(`measuring ${mode}: ${reloads} reloads...`);
      results.push(
        await measureInChild(
          mode,
          reloads,
          [...new Set([...at, ...every(50, reloads)])],
          warmRequests,
        ),
      );
    }
    console.log(`RSS (MB) after N reloads of a showcase-like config, GC forced before each sample`);
    console.log(["reloads".padStart(8), ...results.map((r) => r.mode.padStart(10))].join(" "));
    for (const n of at) {
      const row = results.map((r) => mb(r.samples.find((s) => s.reloads === n)!.rss).padStart(10));
      console.log([String(n).padStart(8), ...row].join(" "));
    }
    for (const r of results) {
      if (r.coldSample) {
        console.log(
          `${r.mode}: RSS ${mb(r.coldSample.rss)} MB after start-up, ${
            mb(r.samples[0].rss)
          } MB after serving ${r.warmRequests} requests (${r.warmFailed} failed), before reload 1`,
        );
      }
      const rss = (n: number) => r.samples.find((s) => s.reloads === n)!.rss;
      const heap = (n: number) => r.samples.find((s) => s.reloads === n)!.heapUsed;
      const warm = at.includes(50) ? 50 : 0;
      const trend = (from: number) => mb(rssTrendGrowth(r.samples, from, reloads));
      console.log(
        `${r.mode}: ${(r.ms / r.reloads).toFixed(0)} ms/reload, ${r.workersStarted} loader ` +
          `Workers; RSS growth ${warm}→${reloads}: ${mb(rss(reloads) - rss(warm))} MB (trend ` +
          `${trend(warm)} MB; trend from 250: ${trend(250)} MB; 0→${reloads}: ${
            mb(rss(reloads) - rss(0))
          } MB); heapUsed ${mb(heap(warm))} → ${mb(heap(reloads))} MB`,
      );
    }
  }
}
