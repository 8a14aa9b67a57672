/**
 * Memory stays flat over many reloads: each config load runs in a throwaway Worker whose module
 * graph is freed when it ends. Measured in a child process (bench/reload_memory.ts), so the test
 * runner's own heap does not blur the figure.
 *
 * The acceptance figure is 1,000 reloads; one reload costs ~175 ms here (a Worker that loads
 * Ferry's module graph), so 1,000 take ~3 min, past the ~90 s a unit test may take. The test
 * runs 300; `deno run -A bench/reload_memory.ts` runs the full 1,000 (and the naive comparison).
 */
import assert from "node:assert/strict";
import { measureInChild } from "../../bench/reload_memory.ts";

const RELOADS = 300;
const WARM_UP = 50;
const MAX_GROWTH_BYTES = 10 * 1024 * 1024;

Deno.test(`reload: RSS grows by less than 10 MB over ${RELOADS} reloads of a showcase-like config`, async () => {
  const m = await measureInChild("worker", RELOADS, [0, WARM_UP, RELOADS]);
  const rss = (n: number) => m.samples.find((s) => s.reloads === n)!.rss;
  const heap = (n: number) => m.samples.find((s) => s.reloads === n)!.heapUsed;
  const growth = rss(RELOADS) - rss(WARM_UP);
  const mb = (b: number) => (b / (1 << 20)).toFixed(1);
  console.log(
    `${RELOADS} reloads in ${(m.ms / 1000).toFixed(1)} s (${
      (m.ms / RELOADS).toFixed(0)
    } ms each), ` +
      `GC forced: ${m.gcForced}; RSS ${mb(rss(0))} MB at start, ${mb(rss(WARM_UP))} MB after ` +
      `${WARM_UP}, ${mb(rss(RELOADS))} MB after ${RELOADS} → growth ${mb(growth)} MB; ` +
      `heapUsed ${mb(heap(WARM_UP))} → ${mb(heap(RELOADS))} MB`,
  );
  assert.ok(m.samples.length === 3, JSON.stringify(m));
  assert.ok(growth < MAX_GROWTH_BYTES, `RSS grew by ${mb(growth)} MB after the warm-up`);
});
