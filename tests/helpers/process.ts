/**
 * Helpers for tests that run Ferry (or `deno task`) as a real child process: spawn with captured
 * output, wait for a log line or an open port, signal, wait for the exit with a bound, and clean
 * up every process (children of `deno task` included) by PID.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where deno.json lives). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);
/** The CLI entry point. */
export const MOD_TS: string = join(REPO_ROOT, "mod.ts");

/** Flags that let the CLI read a config outside the repository (temp files) and serve it. */
export const SERVE_FLAGS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env=FERRY_CONFIG,FERRY_LOG,OTEL_*",
];

/** How a child process ended. `killed` is true when the test had to kill it. */
export interface Exit {
  code: number;
  signal: Deno.Signal | null;
  killed: boolean;
}

/** Everything a finished command printed, and how it ended. */
export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
}

/** Options for spawning `deno`. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * A running `deno` child process whose stdout and stderr are read continuously (so it never
 * blocks on a full pipe) into strings that tests can wait on.
 */
export class DenoProcess {
  readonly pid: number;
  stdout = "";
  stderr = "";
  readonly #child: Deno.ChildProcess;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #drained: Promise<void>;
  #exited = false;
  /** Called whenever output arrives or the process ends. */
  readonly #listeners = new Set<() => void>();

  constructor(args: readonly string[], options: SpawnOptions = {}) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...args],
      cwd: options.cwd ?? REPO_ROOT,
      env: { NO_COLOR: "1", ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.#status = this.#child.status.then((s) => {
      this.#exited = true;
      this.#notify();
      return s;
    });
    this.#drained = Promise.all([
      this.#pump(this.#child.stdout, (t) => this.stdout += t),
      this.#pump(this.#child.stderr, (t) => this.stderr += t),
    ]).then(() => {});
  }

  async #pump(stream: ReadableStream<Uint8Array>, append: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      this.#notify();
    }
  }

  #notify() {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Resolves with the first match of `pattern` in stderr. Rejects if the process ends first or
   * if nothing matches within `timeoutMs` (a hang fails the test instead of hanging CI).
   */
  waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        settle();
      };
      const check = () => {
        const match = this.stderr.match(pattern);
        if (match) return finish(() => resolve(match));
        if (this.#exited) {
          finish(() =>
            reject(new Error(`process exited before ${pattern} appeared; stderr:\n${this.stderr}`))
          );
        }
      };
      timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(`${pattern} did not appear in ${timeoutMs} ms; stderr:\n${this.stderr}`),
            )
          ),
        timeoutMs,
      );
      this.#listeners.add(check);
      check();
    });
  }

  /** Sends `signal` to the process (no-op once it has exited). */
  signal(signal: Deno.Signal): void {
    if (!this.#exited) this.#child.kill(signal);
  }

  /**
   * Waits for the exit, at most `timeoutMs`; past that the process (and its descendants) are
   * killed with SIGKILL and the result says `killed: true`, so tests can assert it was not.
   */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.#killTree();
    }, timeoutMs);
    try {
      const status = await this.#status;
      await this.#drained;
      return { code: status.code, signal: status.signal, killed };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills whatever is still running (descendants first) and releases the pipes. */
  async dispose(): Promise<void> {
    if (!this.#exited) this.#killTree();
    await this.#status;
    await this.#drained;
  }

  #killTree() {
    // `deno task` runs the real command as a child; killing only the task would orphan it.
    for (const pid of descendantsOf(this.pid).reverse()) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** PIDs of every descendant of `pid` (Linux `/proc`), parents before children. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = [...Deno.readDirSync(`/proc/${p}/task`)].map((e) => e.name);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children = "";
      try {
        children = Deno.readTextFileSync(`/proc/${p}/task/${tid}/children`);
      } catch {
        continue;
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return out;
}

/** Runs `deno <args>` to completion; SIGKILLed after `timeoutMs` so a hang fails the test. */
export async function runDeno(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  const proc = new DenoProcess(args, options);
  try {
    const exit = await proc.waitForExit(options.timeoutMs ?? 60_000);
    return { ...exit, stdout: proc.stdout, stderr: proc.stderr };
  } finally {
    await proc.dispose();
  }
}

/** Runs the CLI (`mod.ts <args>`) with `flags`; see {@link runDeno}. */
export function runFerry(
  flags: readonly string[],
  cliArgs: readonly string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  return runDeno(["run", ...flags, MOD_TS, ...cliArgs], options);
}

/** The line Ferry logs once its listeners are bound. */
export const SERVING_LINE = /"message":"ferry serving"[^\n]*/;

/**
 * Waits until a TCP connection to 127.0.0.1:`port` succeeds, trying at most `attempts` times
 * `intervalMs` apart. Throws when every attempt was refused.
 */
export async function waitForPort(port: number, attempts = 50, intervalMs = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await delay(intervalMs);
    }
  }
  throw new Error(`nothing accepted connections on 127.0.0.1:${port} after ${attempts} attempts`);
}

/**
 * Waits until connecting to 127.0.0.1:`port` is refused (the listener is closed), trying at most
 * `attempts` times. Throws when every attempt was accepted.
 */
export async function waitForRefusal(port: number, attempts = 50, intervalMs = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      await delay(intervalMs);
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionRefused) return;
      throw e;
    }
  }
  throw new Error(`127.0.0.1:${port} still accepted connections after ${attempts} attempts`);
}

/**
 * Polls `probe` until it returns true, at most `attempts` times `intervalMs` apart. For states
 * another process reaches on its own (a signal handled) that it exposes only by polling.
 */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  attempts = 100,
  intervalMs = 20,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await delay(intervalMs);
  }
  throw new Error(`${what}: not reached after ${attempts} attempts`);
}

/** The ports among `ports` that something on 127.0.0.1 already holds. */
export function busyPorts(ports: readonly number[]): number[] {
  return ports.filter((port) => {
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return false;
    } catch {
      return true;
    }
  });
}

/** A temporary directory, removed after `body` whatever happens. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-test-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Pacing between poll attempts (never used to wait for an event). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
