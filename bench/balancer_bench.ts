/**
 * Per-pick cost of each balancer over 10 targets, the hot-path number that matters. Run with
 * `deno bench bench/balancer_bench.ts`.
 */
import type { PickContext } from "../src/upstream/balancers/balancer.ts";
import { createBalancer } from "../src/upstream/balancers/create.ts";
import { Target } from "../src/upstream/target.ts";

const targets = Array.from(
  { length: 10 },
  (_, i) => new Target(`http://127.0.0.1:${9500 + i}`, 1 + (i % 3)),
);
for (let i = 0; i < targets.length; i++) targets[i].inflight = (i * 7) % 5;

// Contexts are built up front so the benchmarks time the pick, not the request's setup.
const users = Array.from({ length: 1024 }, (_, i) => `user-${i}`);
const contexts: PickContext[] = users.map((user, i) => ({
  header: (name) => (name === "x-user" ? user : null),
  cookie: () => undefined,
  clientIp: `10.0.${i >> 8}.${i & 255}`,
}));
const keyless: PickContext = { header: () => null, cookie: () => undefined, clientIp: "" };

const roundRobin = createBalancer({ type: "round_robin" }, targets);
const leastRequest = createBalancer({ type: "least_request" }, targets);
const hashHeader = createBalancer({ type: "consistent_hash", key: { header: "x-user" } }, targets);
const hashIp = createBalancer({ type: "consistent_hash", key: { clientIp: true } }, targets);

let n = 0;

Deno.bench("round_robin pick (10 targets)", { group: "pick", baseline: true }, () => {
  roundRobin.pick(keyless);
});

Deno.bench("least_request pick (10 targets)", { group: "pick" }, () => {
  leastRequest.pick(keyless);
});

Deno.bench("consistent_hash pick on a header (10 targets)", { group: "pick" }, () => {
  hashHeader.pick(contexts[n++ & 1023]);
});

Deno.bench("consistent_hash pick on the client IP (10 targets)", { group: "pick" }, () => {
  hashIp.pick(contexts[n++ & 1023]);
});

Deno.bench("consistent_hash pick without the key (10 targets)", { group: "pick" }, () => {
  hashHeader.pick(keyless);
});

const retried = new Set([targets[0], targets[1]]);

Deno.bench("round_robin retry pick, 2 excluded (10 targets)", { group: "retry" }, () => {
  roundRobin.pick(keyless, retried);
});

Deno.bench("least_request retry pick, 2 excluded (10 targets)", { group: "retry" }, () => {
  leastRequest.pick(keyless, retried);
});

Deno.bench("consistent_hash retry pick, 2 excluded (10 targets)", { group: "retry" }, () => {
  hashHeader.pick(contexts[n++ & 1023], retried);
});

Deno.bench("consistent_hash ring build (10 targets, 3,040 points)", { group: "build" }, () => {
  createBalancer({ type: "consistent_hash", key: { clientIp: true } }, targets);
});
