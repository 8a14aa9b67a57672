/**
 * The span Ferry records when a trace is sampled. It only stores what it is given (a plain
 * attribute object, a lazily created event list, start and end as `performance.now()` readings)
 * and hands itself to its sink on `end()`; everything else (hex ids aside, which the span context
 * needs anyway) waits for the exporter to encode a whole batch.
 */
import type {
  Attributes,
  AttributeValue,
  Exception,
  Link,
  Span,
  SpanContext,
  SpanKind,
  SpanStatus,
  TimeInput,
} from "@opentelemetry/api";
import { nowMs, toRelMs } from "./time.ts";

/** The tracer a span came from (OTLP's instrumentation scope); one object per tracer. */
export interface InstrumentationScope {
  readonly name: string;
  readonly version: string | undefined;
}

/** Where ended spans go: the batch exporter. Must not throw. */
export interface EndedSpanSink {
  onEnd(span: RecordingSpan): void;
}

/** One event on a span. */
export interface SpanEvent {
  name: string;
  /** Milliseconds since `performance.timeOrigin`. */
  timeMs: number;
  attributes: Attributes | undefined;
}

/**
 * The most attributes and events a span keeps, as the OpenTelemetry SDKs' default limits
 * (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`): instrumentation that adds
 * without end cannot grow a span, or the cost of setting an attribute, without bound. Later ones
 * are counted as dropped, and the export says how many.
 */
export const SPAN_ATTRIBUTE_LIMIT = 128;
export const SPAN_EVENT_LIMIT = 128;

/** A sampled span. Fields are public so the encoder reads them without accessor calls. */
export class RecordingSpan implements Span {
  name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly scope: InstrumentationScope;
  /**
   * Attribute keys in the order first set, and `attributeValues[i]` the value of key `i`. Two
   * arrays, not an object keyed by attribute name: a store under ever-changing names is a slow
   * generic property store (measured ~80 ns per attribute, ~17 per request), and a key such as
   * `__proto__` is just a key here.
   */
  readonly attributeKeys: string[];
  readonly attributeValues: AttributeValue[];
  /** New attributes refused at {@link SPAN_ATTRIBUTE_LIMIT}. */
  droppedAttributes = 0;
  events: SpanEvent[] | undefined;
  /** Events refused at {@link SPAN_EVENT_LIMIT}. */
  droppedEvents = 0;
  statusCode: number;
  statusMessage: string | undefined;
  /** Milliseconds since `performance.timeOrigin`. */
  readonly startMs: number;
  /** Milliseconds since `performance.timeOrigin`; -1 until the span ends. */
  endMs: number;
  readonly #sink: EndedSpanSink;

  constructor(
    name: string,
    kind: SpanKind,
    context: SpanContext,
    parentSpanId: string,
    scope: InstrumentationScope,
    attributes: Attributes | undefined,
    startTime: TimeInput | undefined,
    sink: EndedSpanSink,
  ) {
    this.name = name;
    this.kind = kind;
    this.context = context;
    this.parentSpanId = parentSpanId;
    this.scope = scope;
    this.attributeKeys = [];
    this.attributeValues = [];
    this.events = undefined;
    this.statusCode = 0;
    this.statusMessage = undefined;
    this.startMs = startTime === undefined ? nowMs() : toRelMs(startTime);
    this.endMs = -1;
    this.#sink = sink;
    if (attributes !== undefined) this.setAttributes(attributes);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    // An ended span is immutable (it may already sit in an export batch); null means "unset".
    if (this.endMs >= 0 || value === undefined || value === null) return this;
    const at = this.attributeKeys.indexOf(key);
    if (at < 0) {
      if (this.attributeKeys.length >= SPAN_ATTRIBUTE_LIMIT) {
        this.droppedAttributes++;
        return this;
      }
      this.attributeKeys.push(key);
      this.attributeValues.push(value);
    } else {
      this.attributeValues[at] = value;
    }
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(
    name: string,
    attributesOrStartTime?: Attributes | TimeInput,
    startTime?: TimeInput,
  ): this {
    if (this.endMs >= 0) return this;
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrStartTime)) startTime = attributesOrStartTime;
    else attributes = attributesOrStartTime;
    const event: SpanEvent = {
      name,
      timeMs: startTime === undefined ? nowMs() : toRelMs(startTime),
      attributes,
    };
    if (this.events === undefined) this.events = [event];
    else if (this.events.length < SPAN_EVENT_LIMIT) this.events.push(event);
    else this.droppedEvents++;
    return this;
  }

  // Links are not exported by Ferry's encoder; accepting them keeps instrumentation working.
  addLink(_link: Link): this {
    return this;
  }

  addLinks(_links: Link[]): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.endMs >= 0) return this;
    this.statusCode = status.code;
    this.statusMessage = status.message;
    return this;
  }

  updateName(name: string): this {
    if (this.endMs < 0) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.endMs >= 0) return; // a second end() is a no-op, the span is exported once
    const endMs = endTime === undefined ? nowMs() : toRelMs(endTime);
    // A clock-skewed end time before the start would give a negative duration: clamp it.
    this.endMs = endMs < this.startMs ? this.startMs : endMs;
    this.#sink.onEnd(this);
  }

  isRecording(): boolean {
    return this.endMs < 0;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") {
      attributes["exception.message"] = exception;
    } else {
      const type = exception.name ?? (exception.code === undefined ? undefined : exception.code);
      if (type !== undefined) attributes["exception.type"] = String(type);
      if (exception.message !== undefined) attributes["exception.message"] = exception.message;
      if (exception.stack !== undefined) attributes["exception.stacktrace"] = exception.stack;
    }
    this.addEvent("exception", attributes, time);
  }
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === "number" || value instanceof Date || Array.isArray(value);
}
