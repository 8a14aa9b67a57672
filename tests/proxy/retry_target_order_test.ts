/**
 * Which target a retry goes to once every healthy target has been tried: another round over them,
 * never straight back to the target whose attempt just failed while a different one is healthy.
 * Real gateway, real upstreams (FlakyUpstream on 127.0.0.1), outlier detection and the circuit
 * breaker off so that only the retry logic decides where attempts go.
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { startTestGateway } from "../helpers/gateway.ts";

const BALANCERS: Record<string, unknown>[] = [
  { type: "round_robin" },
  { type: "least_request" },
  { type: "consistent_hash", key: { header: "x-user" } },
];

/**
 * Runs `body` against a gateway over two equal-weight targets `a` and `b` (2 retries, 1 ms
 * backoff), then closes everything.
 */
async function withTwoTargets(
  balancer: Record<string, unknown>,
  setup: (a: FlakyUpstream, b: FlakyUpstream) => void,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  try {
    setup(a, b);
    const gw = await startTestGateway({
      upstreams: {
        api: {
          targets: [a.url, b.url],
          balancer,
          outlierDetection: false,
          circuitBreaker: false,
          retries: { maxRetries: 2, backoff: { base: "1ms", max: "1ms" } },
        },
      },
      routes: [{ name: "all", upstream: "api" }],
    });
    try {
      await body(gw.url);
    } finally {
      await gw.close();
    }
  } finally {
    a.kill();
    b.kill();
  }
}

for (const balancer of BALANCERS) {
  Deno.test(`${balancer.type}: with two targets failing, the third attempt goes back to the first one, not to the one that just failed`, async () => {
    const attempts: string[] = [];
    await withTwoTargets(balancer, (a, b) => {
      for (const t of [a, b]) {
        t.behave = () => {
          attempts.push(t.name);
          return { kind: "status", status: 503 };
        };
      }
    }, async (url) => {
      for (let i = 0; i < 12; i++) {
        attempts.length = 0;
        const res = await fetch(`${url}/r`, { headers: { "x-user": `user-${i}` } });
        assert.equal(res.status, 503);
        await res.body?.cancel();
        assert.equal(attempts.length, 3, `request ${i}: attempts ${attempts}`);
        const [first, second, third] = attempts;
        assert.notEqual(second, first, `request ${i}: the first retry repeated ${first}`);
        assert.equal(third, first, `request ${i}: attempts ${attempts.join(", ")}`);
      }
    });
  });
}

Deno.test("round_robin: a target whose 503 was transient answers the third attempt while the other stays down", async () => {
  await withTwoTargets({ type: "round_robin" }, (a, b) => {
    let first = true;
    a.behave = () => {
      if (!first) return { kind: "ok" };
      first = false;
      return { kind: "status", status: 503 };
    };
    b.behave = () => ({ kind: "status", status: 503 });
  }, async (url) => {
    // A fresh round-robin sends the first attempt to `a`, the first retry to `b`.
    const res = await fetch(`${url}/r`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "a");
  });
});
