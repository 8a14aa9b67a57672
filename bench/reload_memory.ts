/**
 * Memory over many hot reloads. Each measurement runs in its own child process, so nothing else
 * shares the heap being measured:
 *
 * - `worker`: a file-backed gateway (`serveFile`) reloaded N times through `reloadFile()`, the
 *   file alternating between two valid showcase-like configs so that every reload really loads
 *   (a fresh Worker per load) and swaps a snapshot.
 * - `naive`: the approach Ferry avoids, for comparison: `import(url + "?v=" + n)` in the main
 *   isolate, then `gateway.reload(module.default)`. Every import is a new module record that V8
 *   never frees.
 *
 * Run: `deno run -A bench/reload_memory.ts [--reloads 1000]` prints a table of RSS at 0, 50,
 * 100, 250, 500 and 1000 reloads (after a forced GC) for both. With `--child worker|naive` it
 * runs one measurement and prints JSON (the test in tests/reload/ uses that).
 */
import { join } from "node:path";
import type { Logger } from "../src/observe/logger.ts";
import { createGateway, serveFile } from "../src/server/gateway.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;

/** One RSS sample. */
export interface Sample {
  reloads: number;
  rss: number;
  heapUsed: number;
}

/** What a child prints. */
export interface Measurement {
  mode: "worker" | "naive";
  reloads: number;
  ms: number;
  gcForced: boolean;
  samples: Sample[];
}

/**
 * The real showcase (`routes.config.ts`), with its import pointed at Ferry and one header value
 * varied by `variant` (0 or 1), so every reload really loads something different.
 */
const SHOWCASE = Deno.readTextFileSync(new URL("../routes.config.ts", import.meta.url));
function showcaseConfig(variant: number): string {
  const text = SHOWCASE
    .replace('from "./mod.ts"', `from "${MOD_URL}"`)
    .replace('"x-gateway": "ferry"', `"x-gateway": "ferry-${variant}"`)
    // The demo upstream is not started by the bench: nothing listens or needs to.
    .replace(/^\s*demo: \{ listen:.*$/m, "");
  if (!text.includes(`ferry-${variant}`)) throw new Error("routes.config.ts changed shape");
  return text;
}

const silent: Logger = { log() {} };

function sample(reloads: number): Sample {
  // With --v8-flags=--expose-gc, collect first so the sample shows what is retained.
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = Deno.memoryUsage();
  return { reloads, rss, heapUsed };
}

/** Runs one measurement in this process. */
async function measure(mode: "worker" | "naive", reloads: number, at: Set<number>) {
  const dir = await Deno.makeTempDir({ prefix: "ferry-reload-memory-" });
  const path = join(dir, "ferry.config.ts");
  const samples: Sample[] = [];
  const started = performance.now();
  try {
    await Deno.writeTextFile(path, showcaseConfig(0));
    if (mode === "worker") {
      const gw = await serveFile(path, {
        listen: { hostname: "127.0.0.1", port: 0 },
        admin: false,
        logger: silent,
        demo: false,
        watch: false,
      });
      try {
        if (at.has(0)) samples.push(sample(0));
        for (let n = 1; n <= reloads; n++) {
          await Deno.writeTextFile(path, showcaseConfig(n % 2));
          const outcome = await gw.reloadFile!();
          if (outcome.result !== "success") {
            throw new Error(`reload ${n} did not load: ${JSON.stringify(outcome)}`);
          }
          if (at.has(n)) samples.push(sample(n));
        }
      } finally {
        await gw.close();
      }
    } else {
      const url = new URL(`file://${path}`).href;
      const first = await import(`${url}?v=0`);
      const gw = await createGateway(first.default, { logger: silent });
      try {
        if (at.has(0)) samples.push(sample(0));
        for (let n = 1; n <= reloads; n++) {
          await Deno.writeTextFile(path, showcaseConfig(n % 2));
          const module = await import(`${url}?v=${n}`);
          const result = await gw.reload(module.default);
          if (!result.changed) throw new Error(`reload ${n} changed nothing`);
          if (at.has(n)) samples.push(sample(n));
        }
      } finally {
        await gw.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const gcForced = typeof (globalThis as { gc?: unknown }).gc === "function";
  return { mode, reloads, ms: performance.now() - started, gcForced, samples } as Measurement;
}

/** Runs one measurement in a child process and returns its JSON. */
export async function measureInChild(
  mode: "worker" | "naive",
  reloads: number,
  at: number[],
): Promise<Measurement> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--child",
      mode,
      "--reloads",
      String(reloads),
      "--at",
      at.join(","),
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

if (import.meta.main) {
  const args = Deno.args;
  const reloads = Number(flag(args, "--reloads") ?? 1000);
  const child = flag(args, "--child");
  if (child === "worker" || child === "naive") {
    const at = new Set((flag(args, "--at") ?? `0,${reloads}`).split(",").map(Number));
    console.log(JSON.stringify(await measure(child, reloads, at)));
  } else {
    const at = [0, 50, 100, 250, 500, 1000].filter((n) => n <= reloads);
    if (!at.includes(reloads)) at.push(reloads);
    const results: Measurement[] = [];
    for (const mode of ["worker", "naive"] as const) {
      console.error(`measuring ${mode}: ${reloads} reloads...`);
      results.push(await measureInChild(mode, reloads, at));
    }
    console.log(`RSS (MB) after N reloads of a showcase-like config, GC forced before each sample`);
    console.log(["reloads".padStart(8), ...results.map((r) => r.mode.padStart(10))].join(" "));
    for (const n of at) {
      const row = results.map((r) => mb(r.samples.find((s) => s.reloads === n)!.rss).padStart(10));
      console.log([String(n).padStart(8), ...row].join(" "));
    }
    for (const r of results) {
      const rss = (n: number) => r.samples.find((s) => s.reloads === n)!.rss;
      const heap = (n: number) => r.samples.find((s) => s.reloads === n)!.heapUsed;
      const warm = at.includes(50) ? 50 : 0;
      console.log(
        `${r.mode}: ${(r.ms / r.reloads).toFixed(0)} ms/reload; RSS growth ${warm}→${reloads}: ${
          mb(rss(reloads) - rss(warm))
        } MB (0→${reloads}: ${mb(rss(reloads) - rss(0))} MB); heapUsed ${mb(heap(warm))} → ${
          mb(heap(reloads))
        } MB`,
      );
    }
  }
}
