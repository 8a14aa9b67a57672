/**
 * The `fault` policy: aborts and delays an exact share of requests, optionally only those that
 * carry a header, and validation names the exact path of every bad option.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";
import { composeChain } from "../../src/policies/chain.ts";
import { fault, type FaultPolicyOptions } from "../../src/policies/fault.ts";
import { createFaultMiddleware, ExactShare } from "../../src/policies/fault_policy.ts";
import type { ProxyState } from "../../src/proxy/state.ts";
import { readProblem, startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** Starts an echo upstream and a gateway whose one route ("chaos") uses `policy`. */
async function gatewayWith(policy: ReturnType<typeof fault>) {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ name: "chaos", upstream: "api", use: [policy] }],
  });
  return {
    upstream,
    gw,
    close: async () => {
      await gw.close();
      await upstream.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The exact share

Deno.test("ExactShare picks exactly floor(n × percent / 100) of the first n, evenly", () => {
  const ten = new ExactShare(10);
  const picked = Array.from({ length: 100 }, () => ten.next())
    .flatMap((hit, i) => hit ? [i + 1] : []);
  assert.deepEqual(picked, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);

  for (const percent of [0, 0.5, 1, 12.5, 33.3333, 50, 66.6667, 99.9999, 100]) {
    const share = new ExactShare(percent);
    let count = 0;
    for (let n = 1; n <= 20_000; n++) {
      if (share.next()) count++;
      // Integer reference: percent in ten-thousandths, so no float rounding on either side.
      const expected = Math.floor((n * Math.round(percent * 10_000)) / 1_000_000);
      if (count !== expected) assert.fail(`${percent}%: ${count} picked of ${n}, not ${expected}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The middleware in a real policy chain, with the sleep held open by the test

/** Runs `options` in a chain whose terminal records that it was reached. */
function chainWith(options: FaultPolicyOptions, sleep: (ms: number) => Promise<void>) {
  const events: string[] = [];
  const chain = composeChain(
    [{ name: "fault", middleware: createFaultMiddleware(options, sleep) }],
    () => {
      events.push("forwarded");
      return new Response("from upstream");
    },
  );
  const state = {
    requestId: "req-1",
    match: { route: { config: { name: "chaos" } } },
    upstreamPath: "/",
  } as unknown as ProxyState;
  const run = async () => await chain(new Request("http://gw.test/"), undefined, { ...state });
  return { events, run };
}

/** A sleep the test ends by hand, recording each call. */
function heldSleep(events: string[]) {
  const pending: (() => void)[] = [];
  const sleep = (ms: number) => {
    events.push(`sleep ${ms}`);
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  return { sleep, wake: () => pending.shift()!() };
}

Deno.test("a delayed request is forwarded only after the delay ends", async () => {
  const events: string[] = [];
  const held = heldSleep(events);
  const { events: chainEvents, run } = chainWith(
    { delay: { duration: "1.5s", percent: 100 } },
    held.sleep,
  );
  const answer = run();
  // Let every already-queued step run: nothing may pass the delay while it is held.
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(events, ["sleep 1500"]);
  assert.deepEqual(chainEvents, []);
  held.wake();
  const res = await answer;
  assert.equal(await res.text(), "from upstream");
  assert.deepEqual(chainEvents, ["forwarded"]);
});

Deno.test("delay applies first, then abort: an aborted request is held, then answered", async () => {
  const events: string[] = [];
  const held = heldSleep(events);
  const { events: chainEvents, run } = chainWith({
    delay: { duration: "250ms", percent: 100 },
    abort: { status: 503, percent: 100 },
  }, held.sleep);
  let settled = false;
  const answer = run().finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(events, ["sleep 250"]);
  assert.equal(settled, false, "the abort waits for the delay");
  held.wake();
  const res = await answer;
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("x-ferry-fault"), "abort");
  await res.body?.cancel();
  assert.deepEqual(chainEvents, [], "an aborted request is never forwarded");
});

Deno.test("delay and abort shares are counted independently", async () => {
  const events: string[] = [];
  const { events: chainEvents, run } = chainWith({
    delay: { duration: "10ms", percent: 50 },
    abort: { status: 500, percent: 25 },
  }, (ms) => {
    events.push(`sleep ${ms}`);
    return Promise.resolve();
  });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await run();
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.equal(events.length, 4, "every second request is delayed");
  assert.deepEqual(statuses, [200, 200, 200, 500, 200, 200, 200, 500]);
  assert.equal(chainEvents.length, 6);
});

// ---------------------------------------------------------------------------------------------
// Through a real gateway and a real upstream

Deno.test("abort at 100%: every request gets the problem, the upstream gets none", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ abort: { status: 503, percent: 100 } }),
  );
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/orders/7`);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("x-ferry-fault"), "abort");
      const problem = await readProblem(res);
      assert.equal(problem.type, "https://ferry.dev/problems/fault-injected");
      assert.equal(problem.title, "Fault injected");
      assert.match(problem.detail, /route "chaos"/);
    }
    assert.equal(upstream.received.length, 0);
  } finally {
    await close();
  }
});

Deno.test("abort uses the configured status and detail, and keeps the client's request id", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ abort: { status: 429, percent: 100, detail: "chaos drill" } }),
  );
  try {
    const res = await fetch(`${gw.url}/`, { headers: { "x-request-id": "drill-42" } });
    assert.equal(res.status, 429);
    const problem = await readProblem(res);
    assert.equal(problem.detail, "chaos drill");
    assert.equal(problem.requestId, "drill-42");
    assert.equal(upstream.received.length, 0);
  } finally {
    await close();
  }
});

Deno.test("abort at 0%: every request reaches the upstream untouched", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ abort: { status: 503, percent: 0 } }),
  );
  try {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-ferry-fault"), null);
      await res.body?.cancel();
    }
    assert.equal(upstream.received.length, 5);
  } finally {
    await close();
  }
});

Deno.test("exact share through the gateway: 10% of 100 requests is the 10th, 20th, … 100th", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ abort: { status: 502, percent: 10 } }),
  );
  try {
    const aborted: number[] = [];
    for (let i = 1; i <= 100; i++) {
      const res = await fetch(`${gw.url}/n/${i}`);
      if (res.status === 502) {
        assert.equal(res.headers.get("x-ferry-fault"), "abort");
        aborted.push(i);
      } else assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    assert.deepEqual(aborted, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(upstream.received.length, 90);
  } finally {
    await close();
  }
});

Deno.test("header-gated: only requests with the header (and value) are aborted", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ abort: { status: 500, percent: 100 }, when: { header: "X-Chaos", equals: "on" } }),
  );
  try {
    const send = async (headers: Record<string, string>) => {
      const res = await fetch(`${gw.url}/`, { headers });
      await res.body?.cancel();
      return res.status;
    };
    assert.equal(await send({}), 200);
    assert.equal(await send({ "x-chaos": "off" }), 200);
    assert.equal(upstream.received.length, 2, "ineligible requests pass through");
    assert.equal(await send({ "x-chaos": "on" }), 500);
    assert.equal(upstream.received.length, 2, "the eligible one never reached the upstream");
  } finally {
    await close();
  }
});

Deno.test("header-gated shares count eligible requests only", async () => {
  // Any value of `x-chaos` makes a request eligible; every second eligible one is aborted,
  // however many ineligible requests come in between.
  const { gw, close } = await gatewayWith(
    fault({ abort: { status: 503, percent: 50 }, when: { header: "x-chaos" } }),
  );
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 3; j++) {
        const plain = await fetch(`${gw.url}/`);
        assert.equal(plain.status, 200);
        await plain.body?.cancel();
      }
      const res = await fetch(`${gw.url}/`, { headers: { "x-chaos": String(i) } });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 503, 200, 503, 200, 503]);
  } finally {
    await close();
  }
});

Deno.test("delay at 100%: the request is forwarded, no sooner than the delay", async () => {
  const { gw, upstream, close } = await gatewayWith(
    fault({ delay: { duration: "200ms", percent: 100 } }),
  );
  try {
    const sent = performance.now();
    const res = await fetch(`${gw.url}/slow`);
    const elapsed = performance.now() - sent;
    assert.equal(res.status, 200);
    assert.equal((await res.json()).path, "/slow");
    assert.equal(upstream.received.length, 1);
    // A lower bound only. Timers run on whole milliseconds, so allow 1 ms of rounding.
    assert.ok(elapsed >= 199, `answered after ${elapsed.toFixed(1)} ms`);
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// Validation

/** Validation errors (path → message) for a route using a fault policy with `options`. */
function errorsFor(options: unknown): Record<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [{ kind: "fault", options }] }],
  });
  assert.equal(result.ok, false, `expected ${JSON.stringify(options)} to be rejected`);
  return Object.fromEntries(result.ok ? [] : result.errors.map((e) => [e.path, e.message]));
}

const AT = "routes[0].use[0].options";

Deno.test("validation names the exact path and the fix for each bad option", () => {
  const cases: [unknown, Record<string, string>][] = [
    [
      { abort: { status: 503, percent: 150 } },
      { [`${AT}.abort.percent`]: "150 must be a percentage from 0 to 100" },
    ],
    [
      { delay: { duration: "1s", percent: -1 } },
      { [`${AT}.delay.percent`]: "-1 must be a percentage from 0 to 100" },
    ],
    [
      { abort: { status: 503, percent: "10%" } },
      { [`${AT}.abort.percent`]: 'expected a number, got "10%"' },
    ],
    [
      { abort: { status: 302, percent: 5 } },
      { [`${AT}.abort.status`]: "302 must be an error status from 400 to 599" },
    ],
    [
      { abort: { status: 503.5, percent: 5 } },
      { [`${AT}.abort.status`]: "503.5 must be an error status from 400 to 599" },
    ],
    [
      { abort: { percent: 5 } },
      { [`${AT}.abort.status`]: "missing: expected a number" },
    ],
    [
      { delay: { duration: "fast", percent: 5 } },
      {
        [`${AT}.delay.duration`]:
          '"fast" must be a duration like "250ms" or "5s", shorter than 24 days',
      },
    ],
    [
      { delay: { duration: "600h", percent: 5 } },
      {
        [`${AT}.delay.duration`]:
          '"600h" must be a duration like "250ms" or "5s", shorter than 24 days',
      },
    ],
    [
      { delay: { duration: 250, percent: 5 } },
      { [`${AT}.delay.duration`]: "expected a string, got 250" },
    ],
    [
      { when: { header: "x-chaos" } },
      { [AT]: 'needs "abort", "delay" or both: a fault policy without either does nothing' },
    ],
    [
      { abort: { status: 503, percent: 5 }, when: { header: "x chaos" } },
      { [`${AT}.when.header`]: '"x chaos" must be a valid HTTP header name' },
    ],
    [
      { abort: { status: 503, percent: 5 }, when: { header: "x-chaos", equals: "a\r\nb" } },
      {
        [`${AT}.when.equals`]:
          '"a\\r\\nb" must not contain control characters (CR, LF, NUL, DEL...) other than tab',
      },
    ],
    [
      { abort: { status: 503, percent: 5 }, when: { header: "x-chaos", equals: "a\x7fb" } },
      {
        [`${AT}.when.equals`]:
          '"a\\u007fb" must not contain control characters (CR, LF, NUL, DEL...) other than tab',
      },
    ],
    [
      { abort: { status: 503, percent: 5, statuss: 500 } },
      { [`${AT}.abort.statuss`]: 'unknown key "statuss"; did you mean "status"?' },
    ],
    [
      { delay: { duration: "1s", percent: 5 }, when: { header: "x-a", value: "1" } },
      { [`${AT}.when.value`]: 'unknown key "value"; expected one of "header", "equals"' },
    ],
  ];
  for (const [options, expected] of cases) assert.deepEqual(errorsFor(options), expected);
});

Deno.test("validation reports a missing abort/delay together with the other problems", () => {
  assert.deepEqual(errorsFor({ abrot: { status: 503, percent: 5 }, when: { header: "x y" } }), {
    [AT]: 'needs "abort", "delay" or both: a fault policy without either does nothing',
    [`${AT}.abrot`]: 'unknown key "abrot"; did you mean "abort"?',
    [`${AT}.when.header`]: '"x y" must be a valid HTTP header name',
  });
});

Deno.test("a fault without abort or delay fails to compile and to validate", () => {
  // @ts-expect-error: the factory's type requires `abort`, `delay` or both.
  const nothing = fault({ when: { header: "x-chaos" } });
  assert.deepEqual(Object.keys(errorsFor(nothing.options)), [AT]);
});

Deno.test("valid options keep their plain-data shape after validation", () => {
  const options = {
    abort: { status: 503, percent: 12.5, detail: "drill" },
    delay: { duration: "250ms", percent: 100 },
    when: { header: "x-chaos", equals: "on" },
  } as const;
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ upstream: "api", use: [fault(options)] }],
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  assert.deepEqual(result.config.routes[0].use[0].descriptor, { kind: "fault", options });
});
