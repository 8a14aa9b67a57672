import type { ConfigIssue } from "./normalized.ts";

/** A config that cannot be served: carries every issue, each with its exact path. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[], message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
