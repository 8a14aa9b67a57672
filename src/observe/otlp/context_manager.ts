/**
 * The active-context store for `@opentelemetry/api`, on `AsyncLocalStorage`: what `context.with`
 * sets is visible across the awaits of the function it runs, and nowhere else. Outside any
 * `with`, the active context is {@link LinkedContext.ROOT}, so every context derived from it is
 * one of Ferry's linked ones.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, ContextManager } from "@opentelemetry/api";
import { LinkedContext } from "./linked_context.ts";

export class AsyncLocalStorageContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    // Contexts derived from this root are Ferry's cheap ones (linked_context.ts).
    return this.#storage.getStore() ?? LinkedContext.ROOT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg === undefined || thisArg === null ? fn : fn.bind(thisArg) as F;
    return this.#storage.run(context, callback, ...args);
  }

  /** A function that always runs in `context`; anything else is returned as it is. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const storage = this.#storage;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const bound = function (this: unknown, ...args: unknown[]) {
      return storage.run(context, () => fn.apply(this, args));
    };
    return bound as unknown as T;
  }

  enable(): this {
    return this;
  }

  /** Forgets the current store; later `with` calls work again, as after `enable()`. */
  disable(): this {
    this.#storage.disable();
    return this;
  }
}
