/**
 * Memory over 1,000 reloads (after 250 of warm-up) of a showcase-like config through a
 * file-backed gateway, measured in a child process (bench/reload_memory.ts) so the test
 * runner's own heap does not blur it. Each load runs in a reused loader Worker, replaced every
 * 50 loads and whenever a nested import changed (src/config/loader_worker_pool.ts). What this
 * guards: no per-reload leak of the size the alternatives have: `import(url?v=n)` in the main
 * isolate keeps ~13 KB of heap a reload, and one loader Worker never replaced ~33 KB of RSS.
 *
 * RSS is sampled every 50 reloads after a forced "last-resort" GC (see the bench). It climbs
 * 5-8 MB over the first ~250 reloads, to the working size of the allocator, V8 and the first
 * few loader Workers (about 4.5 MB of it is the deno binary's code paged in), and is nearly flat
 * after that; so growth is taken from reload 250, along the
 * least-squares trend through the samples (one sample may sit a few MB high or low as the
 * allocator takes and returns chunks, which is not growth). Takes ~20 s.
 */
import assert from "node:assert/strict";
import { every, measureInChild, rssTrendGrowth } from "../../bench/reload_memory.ts";

const WARM_UP = 250;
const RELOADS = WARM_UP + 1_000;
// Measured 250 → 1,250: 1-2.5 MB of RSS by the trend (50 → 1,000: 2-5 MB), and ~1.5 MB of JS
// heap, which is not config loading: each reload schedules a `reload.streamGrace` timer (30 s)
// holding the old snapshot's leftovers, and this test reloads far faster than they expire.
const MAX_RSS_GROWTH_BYTES = 10 * 1024 * 1024;
const MAX_HEAP_GROWTH_BYTES = 4 * 1024 * 1024;

Deno.test(`reload: 1,000 reloads after a warm-up keep RSS growth under 10 MB and the JS heap flat`, async () => {
  const m = await measureInChild("worker", RELOADS, every(50, RELOADS));
  const rss = (n: number) => m.samples.find((s) => s.reloads === n)!.rss;
  const heap = (n: number) => m.samples.find((s) => s.reloads === n)!.heapUsed;
  const trend = rssTrendGrowth(m.samples, WARM_UP, RELOADS);
  const heapGrowth = heap(RELOADS) - heap(WARM_UP);
  const mb = (b: number) => (b / (1 << 20)).toFixed(1);
  console.log(
    `${RELOADS} reloads in ${(m.ms / 1000).toFixed(1)} s (${(m.ms / RELOADS).toFixed(0)} ms ` +
      `each), ${m.workersStarted} loader Workers, GC forced: ${m.gcForced}; RSS ${
        mb(rss(0))
      } MB at start, ${mb(rss(WARM_UP))} MB after ${WARM_UP}, ${mb(rss(RELOADS))} MB after ` +
      `${RELOADS} → growth ${mb(trend)} MB by the trend (${
        mb(rss(RELOADS) - rss(WARM_UP))
      } MB between the two samples); heapUsed ${mb(heap(WARM_UP))} → ${mb(heap(RELOADS))} MB`,
  );
  assert.ok(m.gcForced, "the child must run with --expose-gc, or the samples include garbage");
  assert.equal(m.samples.length, RELOADS / 50 + 1, JSON.stringify(m));
  assert.ok(heapGrowth < MAX_HEAP_GROWTH_BYTES, `JS heap grew by ${mb(heapGrowth)} MB`);
  assert.ok(trend < MAX_RSS_GROWTH_BYTES, `RSS grew by ${mb(trend)} MB after the warm-up`);
});
