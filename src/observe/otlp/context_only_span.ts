/**
 * A span that is only a span context: not recorded, never exported, but with real ids, so a
 * trace that is not sampled (or a parent extracted from `traceparent`) still propagates. It is
 * the api's `trace.wrapSpanContext` with a class of Ferry's own, so the tracer can recognise
 * contexts it created or already validated and skip the api's id regexes for their children.
 */
import type { Span, SpanContext } from "@opentelemetry/api";

export class ContextOnlySpan implements Span {
  readonly #context: SpanContext;

  constructor(context: SpanContext) {
    this.#context = context;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  setAttribute(): this {
    return this;
  }

  setAttributes(): this {
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(): this {
    return this;
  }

  updateName(): this {
    return this;
  }

  end(): void {}

  isRecording(): boolean {
    return false;
  }

  recordException(): void {}
}
