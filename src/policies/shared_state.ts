/**
 * Policy state that outlives a snapshot. Policies are rebuilt on every reload, but some of what
 * they hold must not be: JWKS caches (refetching keys on every reload would storm the identity
 * provider), rate-limit counters, metrics. A policy asks for such state by key; the first
 * caller creates it and everyone after gets the same object, across routes and reloads.
 *
 * What a reload stops using must not live on: a JWKS cache of an issuer no route names any more
 * would refresh (and log failures) forever. So each snapshot build is recorded
 * ({@link SharedState.beginBuild}); when it goes live, closable values it did not ask for are
 * retired ({@link SharedState.commitBuild}) and closed once requests still running on the old
 * snapshot are done. A build that fails closes what it alone created
 * ({@link SharedState.abandonBuild}). Values without `close()` (metrics) are always kept:
 * creating a metric again would register its name twice.
 */

/** Something shared that holds resources (timers, sockets) to release at shutdown. */
interface Closable {
  close(): void | Promise<void>;
}

export class SharedState {
  readonly #values = new Map<string, unknown>();
  /** Keys the build in progress asked for; `undefined` outside a build. */
  #building: Set<string> | undefined;
  /** Keys the live snapshot uses; `undefined` until a build was committed. */
  #live: Set<string> | undefined;
  /** Values retired by a reload, waiting for the old snapshot's requests to finish. */
  readonly #retiring = new Set<Closable>();

  /** The value for `key`, created by `create` on first use. */
  get<T>(key: string, create: () => T): T {
    this.#building?.add(key);
    if (this.#values.has(key)) return this.#values.get(key) as T;
    const value = create();
    this.#values.set(key, value);
    return value;
  }

  /** Starts recording which keys a snapshot build asks for. */
  beginBuild(): void {
    this.#building = new Set();
  }

  /**
   * The recorded build is now live. Closable values it did not ask for are forgotten (a later
   * config naming them again gets fresh ones) and handed back as one function that closes
   * them: call it once requests on the previous snapshot are done (or leave it to `close()`).
   * `undefined` when nothing was retired, so that a reload retiring nothing needs no timer.
   */
  commitBuild(): (() => Promise<void>) | undefined {
    const used = this.#building ?? new Set<string>();
    this.#building = undefined;
    this.#live = used;
    const retired = this.#forgetClosablesExcept(used);
    if (retired.length === 0) return undefined;
    for (const value of retired) this.#retiring.add(value);
    return async () => {
      for (const value of retired) {
        // Not twice: `close()` may have closed it already at shutdown.
        if (this.#retiring.delete(value)) await closeQuietly(value);
      }
    };
  }

  /**
   * The recorded build failed and the live snapshot keeps serving: closable values only that
   * build created are closed now (nothing running uses them). Before any build was committed,
   * there is nothing live to compare with, and everything is kept.
   */
  async abandonBuild(): Promise<void> {
    this.#building = undefined;
    if (this.#live === undefined) return;
    for (const value of this.#forgetClosablesExcept(this.#live)) await closeQuietly(value);
  }

  /** Closes every value that can be closed (gateway shutdown). */
  async close(): Promise<void> {
    const values = [...this.#values.values(), ...this.#retiring];
    this.#values.clear();
    this.#retiring.clear();
    for (const value of values) {
      if (isClosable(value)) await value.close();
    }
  }

  #forgetClosablesExcept(keep: ReadonlySet<string>): Closable[] {
    const forgotten: Closable[] = [];
    for (const [key, value] of this.#values) {
      if (keep.has(key) || !isClosable(value)) continue;
      this.#values.delete(key);
      forgotten.push(value);
    }
    return forgotten;
  }
}

/** Closes `value`; a failure to close is not worth failing a reload over. */
async function closeQuietly(value: Closable): Promise<void> {
  try {
    await value.close();
  } catch {
    // Already closed (a resource Deno released) or broken: nothing left to release.
  }
}

function isClosable(value: unknown): value is Closable {
  return typeof value === "object" && value !== null &&
    typeof (value as Closable).close === "function";
}
