/**
 * Upstream timeouts through a real gateway: the per-try timeout, the total timeout across
 * retries, the connect timeout, and the idle timeout of a streaming response body. Each one
 * must end the request no earlier than configured; the upper bounds are loose (configured time
 * + 1 s) because a loaded machine runs timers late, and every figure is printed.
 *
 * Outlier detection and the circuit breaker are off unless a test says otherwise: an ejection
 * or an open circuit would change which attempts are made, which is what these tests count.
 */
import assert from "node:assert/strict";
import { FlakyUpstream } from "../helpers/flaky_upstream.ts";
import { readProblem, startRawUpstream, startTestGateway, within } from "../helpers/gateway.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";

/** Resilience features that would skew which attempts are made (see the header). */
const ISOLATED = { outlierDetection: false, circuitBreaker: false };

/** Slack above a configured time before the upper-bound checks fail. */
const TOLERANCE_MS = 1000;

const TIMEOUT_TYPE = "https://ferry.dev/problems/upstream-timeout";

type Gateway = Awaited<ReturnType<typeof startTestGateway>>;

/** Starts a gateway forwarding everything to upstream `api` with `upstream` settings. */
function gatewayFor(
  targets: { url: string }[],
  upstream: Record<string, unknown>,
  logger?: MemoryLogger,
): Promise<Gateway> {
  return startTestGateway({
    upstreams: { api: { targets: targets.map((t) => t.url), ...ISOLATED, ...upstream } },
    routes: [{ name: "all", upstream: "api" }],
  }, { logger });
}

/** Fetches `url` and returns the response with the milliseconds until its head arrived. */
async function timed(url: string): Promise<{ res: Response; elapsed: number }> {
  const started = performance.now();
  const res = await fetch(url);
  return { res, elapsed: performance.now() - started };
}

function assertBetween(elapsed: number, configured: number, what: string): void {
  assert.ok(elapsed >= configured, `${what} after ${elapsed} ms, before ${configured} ms`);
  assert.ok(
    elapsed < configured + TOLERANCE_MS,
    `${what} after ${elapsed} ms, over ${configured} + ${TOLERANCE_MS} ms`,
  );
}

Deno.test("the per-try timeout answers 504 at the configured time", async () => {
  const target = FlakyUpstream.start("slow");
  target.behave = () => ({ kind: "hang" });
  const gw = await gatewayFor([target], {
    timeouts: { perTry: "150ms", total: "2s" },
    retries: false,
  });
  try {
    const { res, elapsed } = await timed(`${gw.url}/t`);
    console.log(`per-try 150ms: 504 after ${elapsed.toFixed(1)} ms`);
    assert.equal(res.status, 504);
    const problem = await readProblem(res);
    assert.equal(problem.type, TIMEOUT_TYPE);
    assert.match(problem.detail, /150ms per-try timeout/);
    assertBetween(elapsed, 150, "504");
    assert.equal(target.count("/t"), 1);
  } finally {
    await gw.close();
    await target.close();
  }
});

Deno.test("the total timeout bounds every attempt and retry together", async () => {
  const targets = ["a", "b"].map((name) => FlakyUpstream.start(name));
  for (const t of targets) t.behave = () => ({ kind: "hang" });
  const gw = await gatewayFor(targets, {
    timeouts: { perTry: "150ms", total: "400ms" },
    retries: { on: ["timeout"], backoff: { base: "1ms", max: "1ms" } },
  });
  try {
    const { res, elapsed } = await timed(`${gw.url}/t`);
    const counts = targets.map((t) => `${t.name}=${t.count("/t")}`).join(", ");
    console.log(`total 400ms (per-try 150ms): 504 after ${elapsed.toFixed(1)} ms; ${counts}`);
    assert.equal(res.status, 504);
    const problem = await readProblem(res);
    assert.equal(problem.type, TIMEOUT_TYPE);
    assert.match(problem.detail, /400ms total timeout/);
    assertBetween(elapsed, 400, "504");
    for (const t of targets) assert.ok(t.count("/t") >= 1, `${t.name} saw no attempt`);
  } finally {
    await gw.close();
    for (const t of targets) await t.close();
  }
});

/**
 * A TCP listener whose accept queue is full, so that a connect to it hangs: Linux drops the SYN
 * of a connection that the full queue cannot take, and the client retransmits for seconds. Deno
 * cannot choose a listen backlog, so a Python child listens with backlog 0 and never accepts,
 * and one connection of ours fills its queue.
 */
async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const script = [
    "import socket, sys",
    "s = socket.socket()",
    "s.bind(('127.0.0.1', 0))",
    "s.listen(0)",
    "print(s.getsockname()[1], flush=True)",
    "sys.stdin.read()", // Exits when the test closes stdin.
  ].join("\n");
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let filler: Deno.Conn | undefined;
  const close = async () => {
    filler?.close();
    await child.stdin.close().catch(() => {});
    await child.stdout.cancel().catch(() => {});
    await child.status;
  };
  try {
    const reader = child.stdout.getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the python listener exited before printing its port");
      line += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const port = Number(line.trim());
    filler = await Deno.connect({ hostname: "127.0.0.1", port });
    return { url: `http://127.0.0.1:${port}`, close };
  } catch (e) {
    await close();
    throw e;
  }
}

const havePython = (() => {
  try {
    return new Deno.Command("python3", { args: ["-c", "pass"] }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!havePython) console.log("python3 not found: the connect-timeout tests are skipped");

Deno.test({
  name: "the connect timeout answers 504 at the configured time",
  ignore: !havePython,
  async fn() {
    const hole = await startBlackhole();
    try {
      const gw = await gatewayFor([hole], {
        timeouts: { connect: "200ms", total: "5s" },
        retries: false,
      });
      try {
        const { res, elapsed } = await timed(`${gw.url}/t`);
        console.log(`connect 200ms: 504 after ${elapsed.toFixed(1)} ms`);
        assert.equal(res.status, 504);
        const problem = await readProblem(res);
        assert.equal(problem.type, TIMEOUT_TYPE);
        assert.match(problem.detail, /connecting to upstream "api" timed out/);
        assertBetween(elapsed, 200, "504");
      } finally {
        await gw.close();
      }
    } finally {
      await hole.close();
    }
  },
});

Deno.test({
  name: "a connect timeout is retried on another target (it counts as `connect`)",
  ignore: !havePython,
  async fn() {
    const hole = await startBlackhole();
    const healthy = FlakyUpstream.start("healthy");
    try {
      const gw = await gatewayFor([hole, healthy], { timeouts: { connect: "200ms" } });
      try {
        const { res, elapsed } = await timed(`${gw.url}/t`);
        console.log(`connect 200ms then retry: 200 after ${elapsed.toFixed(1)} ms`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "healthy");
        assert.ok(elapsed >= 200, `answered after ${elapsed} ms, before the connect timeout`);
      } finally {
        await gw.close();
      }
    } finally {
      await healthy.close();
      await hole.close();
    }
  },
});

Deno.test("the idle timeout ends a response body that goes silent", async () => {
  const upstream = startRawUpstream(async (socket) => {
    await socket.readHead();
    // Promises 1000 bytes, sends 10, then says nothing until the gateway hangs up.
    await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789");
    await socket.waitForClose();
  });
  const gw = await gatewayFor([upstream], { timeouts: { idle: "200ms" }, retries: false });
  try {
    const started = performance.now();
    const res = await fetch(`${gw.url}/t`);
    const headAfter = performance.now() - started;
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let received = 0;
    let failure: unknown;
    try {
      for (;;) {
        const { value, done } = await within(reader.read(), 5000, "reading the stalled body");
        if (done) break;
        received += value.length;
      }
    } catch (e) {
      failure = e;
    } finally {
      reader.releaseLock();
    }
    const endedAfter = performance.now() - started;
    console.log(
      `idle 200ms: head after ${headAfter.toFixed(1)} ms, body read failed after ` +
        `${endedAfter.toFixed(1)} ms with ${received} of 1000 bytes (${failure})`,
    );
    // A clean end would hand the client a truncated body as if it were whole.
    assert.ok(failure !== undefined, "the stalled body ended without an error");
    assert.ok(received < 1000);
    assertBetween(endedAfter, 200, "the body read failed");
    await res.body?.cancel().catch(() => {});
  } finally {
    await gw.close();
    await upstream.close();
  }
  assert.deepEqual(upstream.errors, []);
});

/**
 * A logger that stalls the event loop once, right after the gateway reports an ejection, as a
 * long GC pause or a CPU-starved process would. The stall is a timer set during the report,
 * so it runs after everything the gateway does synchronously with it (the retry's backoff
 * timer included) and before that backoff timer fires.
 */
class StallingLogger extends MemoryLogger {
  stalled = false;
  constructor(private readonly stallMs: number) {
    super();
  }
  override log(...args: Parameters<MemoryLogger["log"]>): void {
    super.log(...args);
    if (args[1] !== "upstream target ejected" || this.stalled) return;
    this.stalled = true;
    setTimeout(() => {
      // Blocks the whole thread, gateway included (Atomics.wait on a value nobody changes).
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.stallMs);
    }, 0);
  }
}

// A backoff timer can fire after the request's deadline even though it was due before it (the
// thread was busy). The retry then has no time left: it must not be sent, or be sent with a
// deadline that fires at once, never sent with no deadline at all.
Deno.test("the total timeout still bounds a retry whose backoff ended past the deadline", async () => {
  const a = FlakyUpstream.start("a");
  const b = FlakyUpstream.start("b");
  a.behave = () => ({ kind: "reset" });
  b.behave = () => ({ kind: "hang" });
  const logger = new StallingLogger(450);
  // Outlier detection is on only so that a's first failure is reported (the stall's trigger);
  // the retry would go to b anyway.
  const gw = await gatewayFor([a, b], {
    outlierDetection: { consecutiveFailures: 1 },
    timeouts: { total: "300ms" },
    retries: { on: ["reset", "timeout"], maxRetries: 1, backoff: { base: "50ms", max: "50ms" } },
  }, logger);
  let pending: Promise<Response> | undefined;
  try {
    const started = performance.now();
    pending = fetch(`${gw.url}/t`);
    // Without a bound, b is waited on for as long as it hangs: here, until the test ends.
    const res = await within(pending, 3000, "the request past its 300ms total timeout");
    const elapsed = performance.now() - started;
    console.log(`stalled backoff: ${res.status} after ${elapsed.toFixed(1)} ms`);
    assert.ok(logger.stalled, "the stall never ran");
    assert.ok(res.status === 504 || res.status === 502, `status ${res.status}`);
    await readProblem(res);
  } finally {
    // Killing b ends a hung attempt (reset → 502), so the pending request settles.
    await b.close();
    await pending?.then((r) => r.body?.cancel()).catch(() => {});
    await gw.close();
    await a.close();
  }
});
