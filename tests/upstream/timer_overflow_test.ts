/**
 * `setTimeout` cannot wait longer than 2^31 - 1 ms (about 24.8 days): Deno warns and fires a
 * longer delay after 1 ms. Durations come from the config unbounded ("1000h" is valid), so an
 * idle-connection timeout or a health-check interval that long must not turn into a timer that
 * fires at once and re-arms forever.
 */
import assert from "node:assert/strict";
import { Http1Client } from "../../src/upstream/http1/client.ts";
import { TimerSet } from "../../src/upstream/resilience/timer_set.ts";
import { startRawServer } from "./servers/raw_server.ts";
import { bodyText, relaxed, request, targetFor } from "./servers/target.ts";

const MAX_TIMER_MS = 2 ** 31 - 1;
const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;

/**
 * Runs `fn` while recording the delay of every `setTimeout` call; the real `setTimeout` still
 * runs every timer.
 */
async function recordingTimerDelays(fn: () => Promise<void>): Promise<number[]> {
  const original = globalThis.setTimeout;
  const delays: number[] = [];
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    delays.push(args[1] ?? 0);
    return original(...args);
  }) as typeof setTimeout;
  try {
    await fn();
  } finally {
    globalThis.setTimeout = original;
  }
  return delays;
}

Deno.test("a 30-day idle timeout keeps connections pooled without an overflowing timer", async () => {
  const server = startRawServer(async (conn) => {
    while (await conn.readHead() !== null) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    }
  });
  const client = new Http1Client({ maxIdlePerTarget: 8, idleTimeoutMs: THIRTY_DAYS_MS });
  try {
    const delays = await recordingTimerDelays(async () => {
      const send = () => client.send(targetFor(server.port), request(server.port), relaxed);
      assert.equal(await bodyText((await send()).body), "hi");
      assert.equal(await bodyText((await send()).body), "hi");
    });
    assert.equal(server.accepted, 1, "the idle connection was reused");
    assert.ok(delays.length > 0, "the pool armed its sweep");
    for (const ms of delays) assert.ok(ms <= MAX_TIMER_MS, `a timer was asked for ${ms} ms`);
  } finally {
    client.close();
    await server.close();
  }
  assert.deepEqual(server.errors, []);
});

Deno.test("a TimerSet timer longer than setTimeout can wait does not fire at once", async () => {
  const timers = new TimerSet();
  let fired = false;
  try {
    const delays = await recordingTimerDelays(() => {
      timers.after(THIRTY_DAYS_MS, () => fired = true);
      return Promise.resolve();
    });
    assert.equal(delays.length, 1);
    assert.ok(delays[0] <= MAX_TIMER_MS, `a timer was asked for ${delays[0]} ms`);
    assert.equal(fired, false);
  } finally {
    timers.close();
  }
});
