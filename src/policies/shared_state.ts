/**
 * Policy state that outlives a snapshot. Policies are rebuilt on every reload, but some of what
 * they hold must not be: JWKS caches (refetching keys on every reload would storm the identity
 * provider), rate-limit counters, metrics. A policy asks for such state by key; the first
 * caller creates it and everyone after gets the same object, across routes and reloads.
 */

/** Something shared that holds resources (timers, sockets) to release at shutdown. */
interface Closable {
  close(): void | Promise<void>;
}

export class SharedState {
  readonly #values = new Map<string, unknown>();

  /** The value for `key`, created by `create` on first use. */
  get<T>(key: string, create: () => T): T {
    if (this.#values.has(key)) return this.#values.get(key) as T;
    const value = create();
    this.#values.set(key, value);
    return value;
  }

  /** Closes every value that can be closed (gateway shutdown). */
  async close(): Promise<void> {
    const values = [...this.#values.values()];
    this.#values.clear();
    for (const value of values) {
      if (isClosable(value)) await value.close();
    }
  }
}

function isClosable(value: unknown): value is Closable {
  return typeof value === "object" && value !== null &&
    typeof (value as Closable).close === "function";
}
