import assert from "node:assert/strict";
import { createContextKey, propagation, trace } from "@opentelemetry/api";
import { LinkedContext } from "../../../src/observe/otlp/linked_context.ts";
import { W3CTraceContextPropagator } from "../../../src/observe/otlp/propagator.ts";
import { ContextOnlySpan } from "../../../src/observe/otlp/context_only_span.ts";

const A = createContextKey("a");
const B = createContextKey("b");

Deno.test("a linked context returns what was set, the newest value of a key winning", () => {
  const one = LinkedContext.ROOT.setValue(A, 1);
  const two = one.setValue(B, 2).setValue(A, 3);
  assert.equal(LinkedContext.ROOT.getValue(A), undefined);
  assert.equal(one.getValue(A), 1);
  assert.equal(one.getValue(B), undefined);
  assert.equal(two.getValue(A), 3);
  assert.equal(two.getValue(B), 2);
});

Deno.test("setting and deleting never change the context they start from", () => {
  const base = LinkedContext.ROOT.setValue(A, "kept");
  const deleted = base.deleteValue(A);
  base.setValue(A, "other");
  assert.equal(base.getValue(A), "kept");
  assert.equal(deleted.getValue(A), undefined);
  assert.equal(deleted.setValue(A, "again").getValue(A), "again");
  // Deleting what is not there gives the same context back.
  assert.equal(base.deleteValue(B), base);
});

Deno.test("a long chain of settings is flattened and keeps every live value", () => {
  const keys = Array.from({ length: 100 }, (_, i) => createContextKey(`k${i}`));
  let ctx = LinkedContext.ROOT.setValue(A, "first");
  for (let round = 0; round < 3; round++) {
    keys.forEach((key, i) => (ctx = ctx.setValue(key, `${round}:${i}`)));
  }
  ctx = ctx.deleteValue(keys[7]);
  for (let i = 0; i < 40; i++) ctx = ctx.setValue(B, i);
  assert.equal(ctx.getValue(A), "first");
  keys.forEach((key, i) => assert.equal(ctx.getValue(key), i === 7 ? undefined : `2:${i}`));
  assert.equal(ctx.getValue(B), 39);
});

Deno.test("the api's span helpers and Ferry's propagator work on linked contexts", () => {
  const span = new ContextOnlySpan({
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
  });
  const ctx = trace.setSpan(LinkedContext.ROOT, span);
  assert.ok(ctx instanceof LinkedContext);
  assert.equal(trace.getSpan(ctx), span);
  assert.equal(trace.getSpan(trace.deleteSpan(ctx)), undefined);
  const carrier: Record<string, string> = {};
  new W3CTraceContextPropagator().inject(ctx, carrier, {
    set: (c: Record<string, string>, k, v) => (c[k] = v),
  });
  assert.equal(carrier.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  const extracted = new W3CTraceContextPropagator().extract(LinkedContext.ROOT, carrier, {
    get: (c: Record<string, string>, k) => c[k],
    keys: (c: Record<string, string>) => Object.keys(c),
  });
  assert.ok(extracted instanceof LinkedContext);
  assert.equal(trace.getSpanContext(extracted)?.spanId, "b7ad6b7169203331");
  assert.equal(propagation.getBaggage(extracted), undefined);
});
