/**
 * DNS rebinding defence for an admin listener bound to loopback. A web page can make its own
 * host name resolve to 127.0.0.1 after it loaded; the browser then treats the admin API as
 * same-origin with the page, reads `/config`, `/routes` and `/upstreams`, and posts `/reload`
 * (the cross-origin check cannot see it). Such requests carry the page's name in `Host`. A
 * loopback listener is only ever reached honestly as `localhost` or a loopback address, so any
 * other `Host` is refused.
 */
import { parseIp } from "../proxy/cidr.ts";

const LOOPBACK_V4 = parseIp("127.0.0.0")!;
const LOOPBACK_V6 = parseIp("::1")!;

/** 127.0.0.0/8 or ::1 (also as IPv4-mapped). */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const n = parseIp(ip);
  if (n === undefined) return false;
  return n === LOOPBACK_V6 || (n >> 24n) === (LOOPBACK_V4 >> 24n);
}

/** Why `host` (the request's Host, with any port) cannot reach a loopback listener, if it can't. */
export function foreignLoopbackHost(host: string | undefined): string | undefined {
  if (!host) return undefined; // HTTP/1.0 without Host: no name a page could have chosen
  const name = hostName(host).toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost") || isLoopback(name)) return undefined;
  return host;
}

/** The host part of a Host value: `[::1]:9901` → `::1`, `localhost:9901` → `localhost`. */
function hostName(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(1, end);
  }
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}
