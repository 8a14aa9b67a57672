/**
 * Memory over many reloads: each config load runs in a throwaway Worker whose module graph is
 * freed when it ends, so the JS heap stays flat. Measured in a child process
 * (bench/reload_memory.ts), so the test runner's own heap does not blur the figure.
 *
 * The test runs 300 reloads (~55 ms each); `deno run -A --v8-flags=--expose-gc
 * bench/reload_memory.ts` runs the full 1,000 and the naive `import()` comparison.
 */
import assert from "node:assert/strict";
import { measureInChild } from "../../bench/reload_memory.ts";

const RELOADS = 300;
const WARM_UP = 50;
// What this guards: no JS-level leak per reload (the naive `import(url?v=n)` grows the heap by
// ~13 KB per reload; a Worker per reload keeps it flat) and no gross native leak. The issue's
// "< 10 MB RSS over 1,000 reloads" is NOT met: Deno keeps ~25 KB of native memory per Worker
// (bench/reload_memory.ts measures it), so RSS is bounded loosely here and reported in notes.
const MAX_HEAP_GROWTH_BYTES = 2 * 1024 * 1024;
const MAX_RSS_GROWTH_BYTES = 20 * 1024 * 1024;

Deno.test(`reload: ${RELOADS} reloads leave the JS heap flat and RSS bounded`, async () => {
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
  const heapGrowth = heap(RELOADS) - heap(WARM_UP);
  assert.ok(heapGrowth < MAX_HEAP_GROWTH_BYTES, `JS heap grew by ${mb(heapGrowth)} MB`);
  assert.ok(growth < MAX_RSS_GROWTH_BYTES, `RSS grew by ${mb(growth)} MB after the warm-up`);
});
