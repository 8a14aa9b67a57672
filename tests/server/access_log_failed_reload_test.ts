/**
 * A reload that changes the access log but then fails to build (a policy refusing its options)
 * leaves the old config serving, so the old config's access log must keep receiving its lines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "../../src/config/config_error.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import { withTempDir } from "../helpers/process.ts";
import { refusingPolicyConfig } from "./refusing_policy_config.ts";

/** The refusing-policy config, logging to `file`. */
function config(upstream: string, file: string, refuse: boolean) {
  return refusingPolicyConfig(upstream, refuse, {
    accessLog: { to: { file } },
    // Whatever a reload retires is closed at once: the failed reload must retire nothing.
    reload: { streamGrace: "0ms" },
  });
}

/** Lets timers already due run first (same-delay timers fire in the order they were set). */
function afterDueTimers(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("a failed reload that changed the access log: the served config still logs", async () => {
  await withTempDir(async (dir) => {
    const before = join(dir, "before.log");
    const rejected = join(dir, "rejected.log");
    const upstream = startEchoUpstream();
    const gw = await startTestGateway(config(upstream.url, before, false));
    const ids: string[] = [];
    try {
      const first = await fetch(`${gw.url}/a`);
      await first.body?.cancel();
      ids.push(first.headers.get("x-request-id")!);
      await assert.rejects(() => gw.reload(config(upstream.url, rejected, true)), ConfigError);
      await afterDueTimers();
      const second = await fetch(`${gw.url}/b`);
      await second.body?.cancel();
      assert.equal(second.status, 200, "the old config keeps serving");
      ids.push(second.headers.get("x-request-id")!);
    } finally {
      await gw.close();
      await upstream.close();
    }
    const lines = (await Deno.readTextFile(before)).split("\n").filter((l) => l !== "");
    const logged = lines.map((l) => JSON.parse(l).requestId);
    assert.deepEqual(logged, ids, "every request the old config served is in its access log");
  });
});

/**
 * How many of this process's file descriptors are open on `path` (Linux). Read by a child
 * process: Deno lets a program read its own /proc/self/fd only with every permission.
 */
async function openDescriptorsOn(path: string): Promise<number> {
  const out = await new Deno.Command("find", {
    args: [`/proc/${Deno.pid}/fd`, "-lname", path],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").length;
}

Deno.test({
  name: "a config refused at start-up leaves its access log file closed",
  // Deno's resource sanitizer does not track files: the descriptors are counted instead.
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withTempDir(async (dir) => {
      const file = await Deno.realPath(dir).then((real) => join(real, "access.log"));
      const upstream = startEchoUpstream();
      try {
        await assert.rejects(
          () => startTestGateway(config(upstream.url, file, true)),
          ConfigError,
        );
      } finally {
        await upstream.close();
      }
      assert.equal(
        await openDescriptorsOn(file),
        0,
        "the refused config's access log is still open",
      );
    });
  },
});

Deno.test({
  name: "a failed reload that changed the access log closes the log it opened",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await withTempDir(async (dir) => {
      const real = await Deno.realPath(dir);
      const upstream = startEchoUpstream();
      const gw = await startTestGateway(config(upstream.url, join(real, "before.log"), false));
      try {
        const rejected = join(real, "rejected.log");
        await assert.rejects(() => gw.reload(config(upstream.url, rejected, true)), ConfigError);
        assert.equal(await openDescriptorsOn(rejected), 0, "the unused log is still open");
      } finally {
        await gw.close();
        await upstream.close();
      }
    });
  },
});
