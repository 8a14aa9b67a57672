/**
 * Turns upstream resilience events into metrics and log lines, and exposes per-target health and
 * circuit state as gauges read at scrape time (so nothing is updated on the request path).
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { CircuitState, UpstreamEvents } from "../upstream/resilience/events.ts";
import type { UpstreamRuntime } from "../upstream/upstream.ts";
import type { Logger } from "./logger.ts";

const CIRCUIT_STATES: readonly CircuitState[] = ["closed", "open", "half_open"];

/** The gateway's `UpstreamEvents` listener. */
export class UpstreamReporter implements UpstreamEvents {
  readonly #retries: Counter<"upstream">;
  readonly #budgetExhausted: Counter<"upstream">;
  readonly #ejections: Counter<"upstream" | "target">;
  readonly #circuitTransitions: Counter<"upstream" | "to">;

  constructor(
    registry: Registry,
    private readonly logger: Logger,
    runtimes: () => Iterable<UpstreamRuntime>,
  ) {
    const registers = [registry];
    this.#retries = new Counter({
      name: "ferry_upstream_retries_total",
      help: "Retries sent, by upstream.",
      labelNames: ["upstream"],
      registers,
    });
    this.#budgetExhausted = new Counter({
      name: "ferry_upstream_retry_budget_exhausted_total",
      help: "Retries not sent because the upstream's retry budget was spent.",
      labelNames: ["upstream"],
      registers,
    });
    this.#ejections = new Counter({
      name: "ferry_upstream_ejections_total",
      help: "Targets ejected by outlier detection.",
      labelNames: ["upstream", "target"],
      registers,
    });
    this.#circuitTransitions = new Counter({
      name: "ferry_upstream_circuit_transitions_total",
      help: "Circuit breaker state changes, by the state entered.",
      labelNames: ["upstream", "to"],
      registers,
    });
    new Gauge({
      name: "ferry_upstream_healthy",
      help: "1 when the target takes traffic (passing health checks, not ejected), else 0.",
      labelNames: ["upstream", "target"],
      registers,
      collect() {
        this.reset();
        for (const runtime of runtimes()) {
          for (const t of runtime.targets) {
            this.labels(runtime.config.name, t.url).set(t.healthy ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: "ferry_upstream_circuit_state",
      help: "1 for the circuit breaker's current state (closed, open, half_open), else 0.",
      labelNames: ["upstream", "state"],
      registers,
      collect() {
        this.reset();
        // As of the scrape: an open circuit whose open time is over is half-open, even before
        // the request that will make the move arrives.
        const now = Date.now();
        for (const runtime of runtimes()) {
          const circuit = runtime.resilience.circuit;
          if (!circuit) continue;
          const current = circuit.stateAt(now);
          for (const state of CIRCUIT_STATES) {
            this.labels(runtime.config.name, state).set(current === state ? 1 : 0);
          }
        }
      },
    });
  }

  retried(upstream: string): void {
    this.#retries.labels(upstream).inc();
  }

  budgetExhausted(upstream: string): void {
    this.#budgetExhausted.labels(upstream).inc();
  }

  ejected(upstream: string, target: string, ms: number, reason: string): void {
    this.#ejections.labels(upstream, target).inc();
    this.logger.log("warn", "upstream target ejected", { upstream, target, ms, reason });
  }

  healthChanged(upstream: string, target: string, healthy: boolean, reason: string): void {
    this.logger.log(healthy ? "info" : "warn", `upstream target ${healthy ? "up" : "down"}`, {
      upstream,
      target,
      reason,
    });
  }

  circuitChanged(upstream: string, from: CircuitState, to: CircuitState, reason: string): void {
    this.#circuitTransitions.labels(upstream, to).inc();
    this.logger.log(to === "open" ? "warn" : "info", `upstream circuit ${to}`, {
      upstream,
      from,
      reason,
    });
  }
}
