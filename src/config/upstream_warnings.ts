/** Warnings about upstream settings that validate but can have no effect. */
import type { ConfigIssue, NormalizedUpstream } from "./normalized.ts";

/** `tls` set on an upstream whose targets are all `http://`: nothing reads it. */
export function upstreamWarnings(upstreams: Record<string, NormalizedUpstream>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [name, upstream] of Object.entries(upstreams)) {
    const { caCerts, serverName } = upstream.tls;
    if (caCerts.length === 0 && serverName === null) continue;
    if (upstream.targets.some((t) => t.url.startsWith("https:"))) continue;
    issues.push({
      path: `upstreams.${name}.tls`,
      message: "tls applies to https:// targets, and every target of this upstream is http://: " +
        "it has no effect (use https:// targets, or remove tls)",
      severity: "warning",
    });
  }
  return issues;
}
