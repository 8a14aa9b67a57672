/** How the `fault` policy validates its options and injects delays and aborts. */
import { recordRejection } from "../observe/tracing.ts";
import { z } from "zod";
import { parseDuration } from "../config/duration.ts";
import { problem } from "../proxy/problem.ts";
import type { FaultCondition, FaultPolicyOptions } from "./fault.ts";
import { headerName, headerValue } from "./header_field_schemas.ts";
import type { PolicyDefinition, PolicyMiddleware } from "./policy.ts";
import { MAX_TIMER_MS } from "../config/timer_limit.ts";

// Messages start with "must": validation puts the value found in front of them.
const percent = z.number().refine(
  (n) => n >= 0 && n <= 100,
  "must be a percentage from 0 to 100",
);
const schema = z.strictObject({
  abort: z.strictObject({
    status: z.number().refine(
      (n) => Number.isInteger(n) && n >= 400 && n <= 599,
      "must be an error status from 400 to 599",
    ),
    percent,
    detail: z.string().optional(),
  }).optional(),
  delay: z.strictObject({
    duration: z.string().refine((text) => {
      const ms = parseDuration(text);
      return ms !== undefined && ms <= MAX_TIMER_MS;
    }, 'must be a duration like "250ms" or "5s", shorter than 24 days'),
    percent,
  }).optional(),
  when: z.strictObject({
    header: headerName,
    // A value with a control character never arrives in a header (Deno refuses the request),
    // so the policy would never fire.
    equals: headerValue
      .optional(),
  }).optional(),
}).superRefine((value, ctx) => {
  if (value.abort === undefined && value.delay === undefined) {
    ctx.addIssue({
      code: "custom",
      message: 'needs "abort", "delay" or both: a fault policy without either does nothing',
      input: value,
    });
  }
}, {
  // Run even when a key has issues, so this is reported along with them, all at once.
  when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value),
});

/**
 * Picks an exact share of a sequence: each call adds `percent` to an accumulator and answers
 * `true` when it reaches 100, keeping the rest. Of the first `n` calls exactly
 * `floor(n × percent / 100)` answer `true`, evenly spread. Integer arithmetic (ten-thousandths
 * of a percent) keeps that exact over any number of calls, where floats would drift.
 */
export class ExactShare {
  static readonly #WHOLE = 1_000_000;
  readonly #step: number;
  #sum = 0;

  constructor(percent: number) {
    this.#step = Math.round(percent * 10_000);
  }

  /** Whether the next item of the sequence is picked. */
  next(): boolean {
    this.#sum += this.#step;
    if (this.#sum < ExactShare.#WHOLE) return false;
    this.#sum -= ExactShare.#WHOLE;
    return true;
  }
}

/** Waits `ms`; injectable so a test can hold a delay open and observe what happens meanwhile. */
export type Sleep = (ms: number) => Promise<void>;

// A plain timer: a delayed request is in-flight work, so it rightly keeps the process (and a
// graceful drain) waiting, exactly like a slow upstream would.
const timerSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function eligibility(when: FaultCondition | undefined): (headers: Headers) => boolean {
  if (!when) return () => true;
  const { header, equals } = when;
  return equals === undefined
    ? (headers) => headers.has(header)
    : (headers) => headers.get(header) === equals;
}

/** Marks injected answers, so a client or a test can tell them from real failures. */
const ABORT_HEADER = { "x-ferry-fault": "abort" };

/** Builds the middleware; `sleep` is replaced only by tests. */
export function createFaultMiddleware(
  options: FaultPolicyOptions,
  sleep: Sleep = timerSleep,
): PolicyMiddleware {
  const eligible = eligibility(options.when);
  const delayMs = options.delay ? parseDuration(options.delay.duration)! : 0;
  const delays = options.delay ? new ExactShare(options.delay.percent) : undefined;
  const aborts = options.abort ? new ExactShare(options.abort.percent) : undefined;
  return async (c, next) => {
    if (!eligible(c.req.raw.headers)) return await next();
    // Both picks are made on arrival, so "the nth eligible request" decides them, whatever
    // order concurrent delayed requests finish in.
    const delay = delays?.next() ?? false;
    const abort = aborts?.next() ?? false;
    if (delay) await sleep(delayMs);
    if (abort) {
      const state = c.get("proxy");
      const { requestId, match } = state;
      const detail = options.abort!.detail ??
        `route "${match.route.config.name}" injected this fault (a fault policy)`;
      recordRejection(state, "fault", "fault_injected", options.abort!.status);
      return problem(options.abort!.status, "fault-injected", detail, requestId, ABORT_HEADER);
    }
    await next();
  };
}

/** Definition of the `fault` policy. */
export const faultPolicy: PolicyDefinition<"fault", FaultPolicyOptions> = {
  kind: "fault",
  // The schema checks durations at run time; their template-literal type only exists in TS.
  schema: schema as z.ZodType<FaultPolicyOptions>,
  create: (options) => createFaultMiddleware(options),
};
