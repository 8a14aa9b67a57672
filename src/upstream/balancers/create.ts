import type { Balancer } from "./balancer.ts";
import type { BalancerConfig } from "../../config/types.ts";
import type { Target } from "../target.ts";
import { ConsistentHashBalancer } from "./consistent_hash.ts";
import { LeastRequestBalancer } from "./least_request.ts";
import { RoundRobinBalancer } from "./round_robin.ts";

/**
 * Builds the balancer a config names, over an upstream's targets. Called once per config
 * snapshot. `random` is handed to balancers that draw at random (tests pass a seeded one).
 *
 * Throws a `RangeError` naming the target when a weight is not a positive finite number: every
 * algorithm divides traffic by weight, and a zero, negative or NaN weight has no share to give.
 */
export function createBalancer(
  config: BalancerConfig,
  targets: Target[],
  random?: () => number,
): Balancer {
  for (const target of targets) {
    if (!(target.weight > 0 && Number.isFinite(target.weight))) {
      throw new RangeError(
        `target ${target.url} has weight ${target.weight}: use a positive number (default 1)`,
      );
    }
  }
  switch (config.type) {
    case "round_robin":
      return new RoundRobinBalancer(targets);
    case "least_request":
      return new LeastRequestBalancer(targets, random);
    case "consistent_hash":
      return new ConsistentHashBalancer(targets, config.key);
    default: {
      const unknown: never = config;
      throw new TypeError(`unknown balancer type ${JSON.stringify(unknown)}`);
    }
  }
}
