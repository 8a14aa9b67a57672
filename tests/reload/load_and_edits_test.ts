/**
 * Hot reload under load: 16 concurrent clients hammer a file-backed gateway for 30 s while an
 * "editor" saves the config 50 times (in place and by rename), alternating valid edits of the
 * config, invalid edits (syntax error, validation error, half-written file) and valid edits of
 * a policy module the config imports. No client request may fail, and every valid change must
 * be visible in responses within 1 s of the save.
 */
import assert from "node:assert/strict";
import {
  type ConfigDir,
  type FileGateway,
  get,
  linesWith,
  makeConfigDir,
  pollFor,
  reloadCount,
  save,
  type SaveStyle,
  serveTestFile,
  stampedConfigText,
  stampPolicyText,
  startPlainUpstream,
  summary,
} from "../helpers/reload.ts";

const LOAD_CLIENTS = 16;
const LOAD_MS = 30_000;
const EDITS = 50;
/** Safety bounds: the load stops at these even if something hangs. */
const MAX_REQUESTS_PER_CLIENT = 200_000;
const HARD_DEADLINE_MS = 150_000;
const APPLY_BOUND_MS = 1_000;

/** The three ways an edit goes wrong, for either file. */
const BREAKAGES = ["syntax error", "validation error", "half-written"] as const;
type Breakage = typeof BREAKAGES[number];

function broken(file: "config" | "policy", how: Breakage, upstreamUrl: string): string {
  const valid = file === "config" ? stampedConfigText(upstreamUrl, 999) : stampPolicyText(999);
  switch (how) {
    case "syntax error":
      return valid.replace("headers({", "headers({{");
    case "validation error":
      return file === "config"
        ? valid.replace('upstream: "api"', 'upstream: "nope"')
        : valid.replace('"x-policy-version"', '"x policy version"');
    case "half-written":
      return valid.slice(0, valid.indexOf("set: {") + 8);
  }
}

interface LoadStats {
  requests: number;
  failures: string[];
  /** Clients that stopped because of a bound rather than because the test ended. */
  bounded: number;
}

/** Runs `clients` request loops until `stop` resolves, or a bound is reached. */
function runLoad(url: string, stop: Promise<void>): Promise<LoadStats> {
  const stats: LoadStats = { requests: 0, failures: [], bounded: 0 };
  let stopped = false;
  stop.then(() => stopped = true);
  const deadline = performance.now() + HARD_DEADLINE_MS;
  const client = async () => {
    let n = 0;
    while (!stopped) {
      if (n >= MAX_REQUESTS_PER_CLIENT || performance.now() > deadline) {
        stats.bounded++;
        return;
      }
      n++;
      stats.requests++;
      try {
        const res = await fetch(url);
        const text = await res.text();
        // A response from a half-applied config would lack one of the two stamps.
        if (
          res.status !== 200 || text !== "ok" || !res.headers.get("x-version") ||
          !res.headers.get("x-policy-version")
        ) {
          stats.failures.push(`${res.status} ${text.slice(0, 200)} ${[...res.headers]}`);
        }
      } catch (e) {
        stats.failures.push(`fetch error: ${e}`);
      }
    }
  };
  return Promise.all(Array.from({ length: LOAD_CLIENTS }, client)).then(() => stats);
}

/** Polls the gateway until `header` is `value`; returns the delay from `since`. */
async function applyDelay(gw: FileGateway, header: string, value: string, since: number) {
  return await pollFor(`${header}: ${value} to be served`, async () => {
    const res = await get(`${gw.url}/probe`);
    assert.equal(res.status, 200, res.text);
    return res.headers.get(header) === value ? performance.now() - since : undefined;
  }, { timeoutMs: 10_000, intervalMs: 0, attempts: 100_000 });
}

Deno.test("reload: 50 edits under 30 s of load: no failed request, each valid change live within 1 s", async () => {
  let dir: ConfigDir | undefined;
  let upstream: ReturnType<typeof startPlainUpstream> | undefined;
  let gw: FileGateway | undefined;
  const stop = Promise.withResolvers<void>();
  let load: Promise<LoadStats> | undefined;
  try {
    dir = await makeConfigDir();
    upstream = startPlainUpstream();
    const files = { config: dir.path("ferry.config.ts"), policy: dir.path("policy.ts") };
    let configVersion = 1;
    let policyVersion = 1;
    await save(files.policy, stampPolicyText(policyVersion));
    await save(files.config, stampedConfigText(upstream.url, configVersion));
    gw = await serveTestFile(files.config);
    const started = performance.now();
    load = runLoad(`${gw.url}/load`, stop.promise);

    const delays: number[] = [];
    const rejections: number[] = [];
    const styles = { "in-place": 0, rename: 0 };
    let invalid = 0;
    for (let i = 0; i < EDITS; i++) {
      // Pacing: spread the edits over the load period (not a wait for anything).
      const due = started + (i * LOAD_MS) / EDITS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));

      const style: SaveStyle = i % 3 === 0 ? "rename" : "in-place";
      styles[style]++;
      const step = i % 4;
      if (step === 0) {
        await save(files.config, stampedConfigText(upstream.url, ++configVersion), style);
        delays.push(await applyDelay(gw, "x-version", String(configVersion), performance.now()));
      } else if (step === 2) {
        await save(files.policy, stampPolicyText(++policyVersion), style);
        delays.push(
          await applyDelay(gw, "x-policy-version", String(policyVersion), performance.now()),
        );
      } else {
        // Invalid edits break the file that the next valid edit rewrites.
        const file = step === 1 ? "policy" : "config";
        const how = BREAKAGES[invalid % BREAKAGES.length];
        const before = linesWith(gw.logger, "config rejected; still serving the previous one")
          .length;
        const saved = performance.now();
        await save(files[file], broken(file, how, upstream.url), style);
        invalid++;
        const logger = gw.logger;
        rejections.push(
          await pollFor(`the ${how} in ${file} to be rejected`, () => {
            const n = linesWith(logger, "config rejected; still serving the previous one").length;
            return n > before ? performance.now() - saved : undefined;
          }, { timeoutMs: 10_000 }),
        );
      }
    }
    // Keep the load going for the full period even if the edits finished early. A timer can
    // fire a fraction of a millisecond before its delay is up: wait again until it really is.
    for (let left = started + LOAD_MS - performance.now(); left > 0;) {
      await new Promise((r) => setTimeout(r, Math.ceil(left)));
      left = started + LOAD_MS - performance.now();
    }
    stop.resolve();
    const stats = await load;
    const elapsed = performance.now() - started;

    const valid = delays.length;
    const d = summary(delays);
    const r = summary(rejections);
    console.log(
      [
        `load: ${stats.requests} requests from ${LOAD_CLIENTS} clients in ${
          (elapsed / 1000).toFixed(1)
        } s (${(stats.requests / (elapsed / 1000)).toFixed(0)}/s), ${stats.failures.length} failed`,
        `edits: ${EDITS} (${valid} valid, ${invalid} invalid; ${
          styles["in-place"]
        } in place, ${styles.rename} by rename)`,
        `apply delay of valid edits: median ${d.median.toFixed(0)} ms, max ${
          d.max.toFixed(0)
        } ms, min ${d.min.toFixed(0)} ms`,
        `rejection delay of invalid edits: median ${r.median.toFixed(0)} ms, max ${
          r.max.toFixed(0)
        } ms`,
      ].join("\n"),
    );

    assert.deepEqual(stats.failures.slice(0, 5), [], `${stats.failures.length} failed requests`);
    assert.equal(stats.bounded, 0, "a load client stopped at a safety bound, not at the end");
    assert.ok(stats.requests > 0);
    assert.ok(elapsed >= LOAD_MS, "the load ran for the whole period");
    assert.ok(d.max < APPLY_BOUND_MS, `slowest valid change took ${d.max.toFixed(0)} ms`);
    // Exact accounting: every valid edit one reload, every invalid one rejection.
    assert.equal(await reloadCount(gw.adminUrl, "success"), 1 + valid);
    assert.equal(await reloadCount(gw.adminUrl, "error"), invalid);
    assert.equal(gw.snapshot.version, 1 + valid);
  } finally {
    stop.resolve();
    await load;
    await gw?.close();
    await upstream?.close();
    await dir?.remove();
  }
});
