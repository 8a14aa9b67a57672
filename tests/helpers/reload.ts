/**
 * Helpers for the hot-reload tests (tests/reload/): config files in temp folders, saves done
 * the way editors do them, a file-backed gateway on ephemeral ports, and readers for what a
 * reload reports (admin `/metrics`, `/config`, the in-memory log). Polls are bounded by time
 * and attempts; nothing here sleeps in place of waiting for an event.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { type GatewayHandle, serveFile } from "../../src/server/gateway.ts";
import { startUpstream, type TestUpstream } from "./gateway.ts";

/** Ferry's entry module as a file URL, for `import { defineConfig } from "..."` in temp files. */
export const MOD_URL: string = new URL("../../mod.ts", import.meta.url).href;

/** A temporary folder for config files; `remove()` deletes it and everything in it. */
export interface ConfigDir {
  readonly dir: string;
  /** Absolute path of `name` inside the folder. */
  path(name: string): string;
  remove(): Promise<void>;
}

export async function makeConfigDir(): Promise<ConfigDir> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-reload-" });
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** How an editor writes a file. */
export type SaveStyle = "in-place" | "rename";

let renameCounter = 0;

/**
 * Saves `text` to `path`. `"in-place"` truncates and rewrites the file (same inode);
 * `"rename"` writes a sibling temp file and renames it over the original, as vim, VS Code and
 * most atomic-save editors do (new inode: a watch on the old file would go quiet).
 */
export async function save(path: string, text: string, style: SaveStyle = "in-place") {
  if (style === "in-place") {
    await Deno.writeTextFile(path, text);
    return;
  }
  const temp = `${path}.ferry-save-${++renameCounter}.tmp`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

/** The file-backed gateway of a test, with its log. */
export type FileGateway = GatewayHandle & { logger: MemoryLogger; adminUrl: string };

/** Serves the config file at `path` on 127.0.0.1 ephemeral ports, watching unless told not to. */
export async function serveTestFile(
  path: string,
  options: { watch?: boolean; env?: (name: string) => string | undefined } = {},
): Promise<FileGateway> {
  const logger = new MemoryLogger();
  const handle = await serveFile(path, {
    listen: { hostname: "127.0.0.1", port: 0 },
    admin: { hostname: "127.0.0.1", port: 0 },
    logger,
    demo: false,
    watch: options.watch,
    env: options.env,
  });
  if (!handle.adminUrl) throw new Error("the test gateway has no admin listener");
  return Object.assign(handle, { logger, adminUrl: handle.adminUrl });
}

/**
 * Runs `body` with a gateway served from a config file in a fresh folder, in front of an
 * upstream answering "ok". `write` saves the first files and returns the config's path. The
 * gateway, the upstream and the folder are closed and removed whatever happens.
 */
export async function withConfigFileGateway(
  write: (dir: ConfigDir, upstreamUrl: string) => Promise<string>,
  body: (gw: FileGateway, dir: ConfigDir, file: string, upstreamUrl: string) => Promise<void>,
  options: { watch?: boolean } = {},
): Promise<void> {
  let dir: ConfigDir | undefined;
  let upstream: TestUpstream | undefined;
  let gw: FileGateway | undefined;
  try {
    dir = await makeConfigDir();
    upstream = startUpstream(() => new Response("ok"));
    const file = await write(dir, upstream.url);
    gw = await serveTestFile(file, options);
    await body(gw, dir, file, upstream.url);
  } finally {
    await gw?.close();
    await upstream?.close();
    await dir?.remove();
  }
}

/**
 * Polls `probe` until it returns a value other than `undefined`, trying at most `attempts`
 * times and for at most `timeoutMs`. Between attempts it yields for `intervalMs` (pacing of a
 * poll, not a wait standing in for an event). Throws with `what` when the bound is reached.
 */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 5_000, intervalMs = 10, attempts = 2_000 } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < attempts && performance.now() < deadline; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (intervalMs > 0) await pause(intervalMs);
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms / ${attempts} attempts`);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** GETs `url` and returns status, headers and body text (the body is always consumed). */
/** Polls the gateway's `/x` until a 200 answer carries `header: value`. */
export async function untilServed(gw: FileGateway, header: string, value: string): Promise<void> {
  await pollFor(`a response with ${header}: ${value}`, async () => {
    const res = await get(`${gw.url}/x`);
    assert.equal(res.status, 200);
    return res.headers.get(header) === value ? true : undefined;
  });
}

export async function get(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Admin `/metrics` as name-with-labels → value, e.g. `ferry_config_reloads_total{result="error"}`. */
export async function scrapeMetrics(adminUrl: string): Promise<Map<string, number>> {
  const { status, text } = await get(`${adminUrl}/metrics`);
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** `ferry_config_reloads_total{result=...}`, 0 when the series does not exist yet. */
export async function reloadCount(adminUrl: string, result: "success" | "error"): Promise<number> {
  const metrics = await scrapeMetrics(adminUrl);
  return metrics.get(`ferry_config_reloads_total{result="${result}"}`) ?? 0;
}

/** Every `ferry_config_info` series: the version and hash labels of those set to 1. */
export async function configInfo(adminUrl: string): Promise<{ version: string; hash: string }[]> {
  const metrics = await scrapeMetrics(adminUrl);
  const out: { version: string; hash: string }[] = [];
  for (const [key, value] of metrics) {
    const m = /^ferry_config_info\{version="([^"]*)",hash="([^"]*)"\}$/.exec(key);
    if (m && value === 1) out.push({ version: m[1], hash: m[2] });
  }
  return out;
}

/** What admin `/config` answers (the parts the reload tests read). */
export interface AdminConfigView {
  version: number;
  hash: string;
  source: string;
  lastLoad: {
    at: string;
    result: "success" | "error";
    errors?: { path: string; message: string }[];
  };
  config: Record<string, unknown>;
}

export async function adminConfig(adminUrl: string): Promise<AdminConfigView> {
  const { status, text } = await get(`${adminUrl}/config`);
  if (status !== 200) throw new Error(`/config answered ${status}: ${text}`);
  return JSON.parse(text);
}

/** Log lines with `message`. */
export function linesWith(logger: MemoryLogger, message: string) {
  return logger.lines.filter((l) => l.message === message);
}

/** An upstream handler for WebSocket upgrades that answers every message with `echo:<text>`. */
export function websocketEchoResponse(req: Request): Response {
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onmessage = (e) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(`echo:${e.data}`);
  };
  return response;
}

/** A client WebSocket with an awaitable message queue and close event. */
export interface TestSocket {
  readonly socket: WebSocket;
  /** Sends `text` and resolves with the next message received. */
  roundTrip(text: string): Promise<string>;
  /** Resolves with the close event (whoever closed). */
  readonly closed: Promise<CloseEvent>;
  /** `performance.now()` when the close event arrived, once it has. */
  readonly closedAt: number | undefined;
  close(): Promise<void>;
}

/** Opens a WebSocket to `url` (ws://...) and resolves once it is open; rejects on failure. */
export async function openSocket(url: string): Promise<TestSocket> {
  const socket = new WebSocket(url);
  const closed = Promise.withResolvers<CloseEvent>();
  let closedAt: number | undefined;
  const inbox: string[] = [];
  let waiter: ((m: string) => void) | undefined;
  socket.onmessage = (e) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(String(e.data));
    } else inbox.push(String(e.data));
  };
  socket.onclose = (e) => {
    closedAt = performance.now();
    closed.resolve(e);
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`WebSocket to ${url} failed to open`));
  });
  socket.onerror = () => {};
  return {
    socket,
    closed: closed.promise,
    get closedAt() {
      return closedAt;
    },
    roundTrip(text) {
      if (socket.readyState !== WebSocket.OPEN) {
        return Promise.reject(new Error(`socket not open (readyState ${socket.readyState})`));
      }
      const next = inbox.length
        ? Promise.resolve(inbox.shift()!)
        : new Promise<string>((resolve, reject) => {
          waiter = resolve;
          closed.promise.then((e) => reject(new Error(`socket closed (${e.code}) before a reply`)));
        });
      socket.send(text);
      return next;
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      if (socket.readyState !== WebSocket.CLOSING) socket.close();
      await closed.promise;
    },
  };
}

/** `http://…` → `ws://…`. */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, "ws");
}

/** Minimum and maximum and median of `values` (which must not be empty). */
export function summary(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

/**
 * A plain upstream answering `ok` that keeps nothing per request (the shared `startUpstream`
 * records every request, which adds up under a long load test).
 */
export function startPlainUpstream(): { url: string; close(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/** A config with one route, "main", to `upstreamUrl`, that stamps `x-version: <version>`. */
export function versionedConfigText(upstreamUrl: string, version: number): string {
  return `import { defineConfig, headers } from "${MOD_URL}";
export default defineConfig({
  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
    { name: "main", upstream: "api", use: [headers({ response: { set: { "x-version": "${version}" } } })] },
  ],
});
`;
}

/**
 * A config whose route stamps `x-version` itself and `x-policy-version` through the policy
 * module it imports (`./policy.ts`, see {@link stampPolicyText}): one save of either file is
 * visible on the next response.
 */
export function stampedConfigText(upstreamUrl: string, version: number, debounce?: string): string {
  return `import { defineConfig, headers } from "${MOD_URL}";
import { stamp } from "./policy.ts";
export default defineConfig({
${
    debounce
      ? `  reload: { debounce: "${debounce}" },\n`
      : ""
  }  upstreams: { api: { targets: ["${upstreamUrl}"] } },
  routes: [
    {
      name: "main",
      upstream: "api",
      use: [headers({ response: { set: { "x-version": "${version}" } } }), stamp],
    },
  ],
});
`;
}

/** The policy module {@link stampedConfigText} imports. */
export function stampPolicyText(version: number): string {
  return `import { headers } from "${MOD_URL}";
export const stamp = headers({ response: { set: { "x-policy-version": "${version}" } } });
`;
}
