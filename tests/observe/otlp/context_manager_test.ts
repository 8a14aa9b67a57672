import assert from "node:assert/strict";
import { createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { LinkedContext } from "../../../src/observe/otlp/linked_context.ts";
import { AsyncLocalStorageContextManager } from "../../../src/observe/otlp/context_manager.ts";

const KEY = createContextKey("test");

Deno.test("active() is Ferry's linked root context outside with()", () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  assert.equal(manager.active(), LinkedContext.ROOT);
});

Deno.test("with() makes a context active across awaits and restores the outer one", async () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  const outer = ROOT_CONTEXT.setValue(KEY, "outer");
  const inner = ROOT_CONTEXT.setValue(KEY, "inner");
  await manager.with(outer, async () => {
    assert.equal(manager.active().getValue(KEY), "outer");
    const seen = await manager.with(inner, async () => {
      await Promise.resolve();
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      return manager.active().getValue(KEY);
    });
    assert.equal(seen, "inner");
    assert.equal(manager.active().getValue(KEY), "outer");
  });
  assert.equal(manager.active(), LinkedContext.ROOT);
});

Deno.test("with() passes thisArg and arguments and returns the result", () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  const self = { base: 40 };
  const result = manager.with(
    ROOT_CONTEXT,
    function (this: typeof self, a: number, b: number) {
      return this.base + a + b;
    },
    self,
    1,
    1,
  );
  assert.equal(result, 42);
});

Deno.test("bind() runs a function in the bound context wherever it is called", () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  const bound = manager.bind(
    ROOT_CONTEXT.setValue(KEY, "bound"),
    () => manager.active().getValue(KEY),
  );
  assert.equal(bound(), "bound");
  assert.equal(manager.with(ROOT_CONTEXT.setValue(KEY, "other"), bound), "bound");
  const notAFunction = { x: 1 };
  assert.equal(manager.bind(ROOT_CONTEXT, notAFunction), notAFunction);
});

Deno.test("disable() forgets the active context", () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  manager.with(ROOT_CONTEXT.setValue(KEY, "x"), () => {
    manager.disable();
    assert.equal(manager.active(), LinkedContext.ROOT);
  });
});
