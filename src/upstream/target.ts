import type { TargetAddress } from "./client.ts";

/**
 * A target's runtime state. One object per (upstream, url), kept across config reloads when the
 * target's definition did not change, so that counters and health survive.
 */
export class Target {
  readonly address: TargetAddress;
  /** Requests currently in flight to this target (least-request balancing reads it). */
  inflight = 0;
  /** Healthy targets take traffic. Health checks and outlier detection flip this. */
  healthy = true;

  /** `host:port` as a client would write it in a Host header (parsed once, not per request). */
  readonly hostHeader: string;

  constructor(readonly url: string, readonly weight: number) {
    const u = new URL(url);
    this.hostHeader = u.host;
    const protocol = u.protocol === "https:" ? "https:" : "http:";
    this.address = {
      origin: u.origin,
      protocol,
      hostname: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port ? Number(u.port) : protocol === "https:" ? 443 : 80,
    };
  }
}
