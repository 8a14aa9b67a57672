/**
 * The access log under log rotation, with real files and a real gateway, as logrotate does it:
 * `create` mode renames `access.log` to `access.log.1` (or a cleanup deletes it) and expects
 * the next lines in a new `access.log`; `copytruncate` copies the file and truncates it in
 * place. The tests wait for a batch to reach the file before rotating it, so each batch's
 * file is known; closing the gateway writes what is left.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openAccessLog } from "../../src/observe/access_log.ts";
import { accessEntry } from "../helpers/access_entry.ts";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { pollUntil, withTempDir } from "../helpers/process.ts";

async function paths(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  assert.ok(text.endsWith("\n"), "every line is terminated");
  return text.trimEnd().split("\n").map((l) => JSON.parse(l).path);
}

/** A gateway logging every request to `file`, and a way to send requests through it. */
async function loggingGateway(file: string) {
  const api = startUpstream(() => new Response("ok"));
  const gw = await startTestGateway({
    upstreams: { api: { targets: [api.url] } },
    routes: [{ name: "all", match: { path: "/*" }, upstream: "api" }],
    accessLog: { to: { file } },
  }, { admin: false });
  return {
    async get(path: string) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(await res.text(), "ok");
    },
    /** Resolves once the batch holding `path`'s line has reached `at` (written on its own). */
    written: (path: string, at = file) =>
      pollUntil(`${path} in ${at}`, async () => {
        const text = await Deno.readTextFile(at).catch(() => "");
        return text.includes(`"path":"${path}"`);
      }),
    async close() {
      await gw.close();
      await api.close();
    },
  };
}

Deno.test("a renamed access log is reopened: later lines go to a new file at the path, none lost", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const gw = await loggingGateway(file);
    try {
      await gw.get("/before-1");
      await gw.get("/before-2");
      await gw.written("/before-2");
      await Deno.rename(file, `${file}.1`); // logrotate's default (`create`) mode
      await gw.get("/after-1");
      await gw.written("/after-1");
      await gw.get("/after-2");
    } finally {
      await gw.close(); // flushes the rest
    }
    assert.deepEqual(await paths(`${file}.1`), ["/before-1", "/before-2"]);
    assert.deepEqual(await paths(file), ["/after-1", "/after-2"]);
  });
});

Deno.test("a deleted access log is created again at the next batch", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const gw = await loggingGateway(file);
    try {
      await gw.get("/old");
      await gw.written("/old");
      await Deno.remove(file);
      await gw.get("/new");
    } finally {
      await gw.close();
    }
    assert.deepEqual(await paths(file), ["/new"]);
  });
});

Deno.test("after copytruncate, lines land at the new end of the file: no hole of NULs", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const gw = await loggingGateway(file);
    try {
      await gw.get("/before");
      await gw.written("/before");
      await Deno.copyFile(file, `${file}.1`);
      await Deno.truncate(file, 0);
      await gw.get("/after");
    } finally {
      await gw.close();
    }
    const bytes = await Deno.readFile(file);
    assert.equal(bytes.indexOf(0), -1, "no NUL bytes");
    assert.deepEqual(await paths(file), ["/after"]);
    assert.deepEqual(await paths(`${file}.1`), ["/before"]);
  });
});

Deno.test("rotated twice between batches, each batch goes to the file at the path when it is written", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const log = await openAccessLog({ file });
    try {
      for (const generation of ["a", "b", "c"]) {
        log.write(accessEntry(generation, { path: `/${generation}` }));
        await log.flush();
        await Deno.rename(file, `${file}.${generation}`);
      }
      log.write(accessEntry("d", { path: "/d" }));
    } finally {
      await log.close();
    }
    assert.deepEqual(await paths(`${file}.a`), ["/a"]);
    assert.deepEqual(await paths(`${file}.b`), ["/b"]);
    assert.deepEqual(await paths(`${file}.c`), ["/c"]);
    assert.deepEqual(await paths(file), ["/d"]);
    assert.equal(log.dropped, 0);
  });
});

Deno.test("rotation is followed with write access to the log alone, as the README's start flags grant", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "access.log");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-write=${file}`, // no read access: `stat` of the log is refused
        fileURLToPath(new URL("./access_log_rotation_child.ts", import.meta.url)),
        file,
      ],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const stdin = child.stdin.getWriter();
    try {
      const { value } = await stdout.read();
      if (value?.trim() !== "flushed") assert.fail(`child: ${value} ${await stderr}`);
      await Deno.rename(file, `${file}.1`);
      await stdin.write(new Uint8Array([10]));
      await stdin.close();
      while (!(await stdout.read()).done); // to the end of the child's output
      const status = await child.status;
      assert.equal(status.code, 0, await stderr);
    } finally {
      await stdin.close().catch(() => {});
      await stdout.cancel().catch(() => {});
      try {
        child.kill();
      } catch {
        // already exited
      }
      await child.status;
      await stderr;
    }
    assert.deepEqual(await paths(`${file}.1`), ["/before"]);
    assert.deepEqual(await paths(file), ["/after"]);
  });
});
