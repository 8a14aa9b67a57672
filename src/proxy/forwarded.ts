/**
 * X-Forwarded-For/-Proto/-Host and the client IP. Incoming forwarded headers are believed only
 * when the connecting peer is a configured trusted proxy; otherwise they are replaced, so a
 * client cannot spoof its address to an upstream or to an IP filter.
 */
import { type CidrSet, parseIp } from "./cidr.ts";

/** What Ferry tells the upstream about the original request, and whom it came from. */
export interface ForwardedView {
  /** The original client, after walking back through trusted proxies. */
  clientIp: string;
  /** `X-Forwarded-For` to send: the trusted chain with the peer appended. */
  forwardedFor: string;
  forwardedProto: string;
  forwardedHost: string;
}

/** Resolves {@link ForwardedView}s against a fixed set of trusted proxies. */
export class ForwardedResolver {
  constructor(readonly trusted: CidrSet) {}

  /** Whether forwarded headers from this peer are believed. */
  trusts(peerIp: string): boolean {
    return this.trusted.size > 0 && this.trusted.has(peerIp);
  }

  resolve(peer: string, headers: Headers, proto: string, host: string): ForwardedView {
    const peerIp = unmapped(peer);
    if (!this.trusts(peerIp)) {
      return { clientIp: peerIp, forwardedFor: peerIp, forwardedProto: proto, forwardedHost: host };
    }
    const incoming = headers.get("x-forwarded-for");
    const chain = incoming ? incoming.split(",").map(addressOfEntry).filter(Boolean) : [];
    chain.push(peerIp);
    return {
      clientIp: this.#clientOf(chain),
      forwardedFor: chain.join(", "),
      forwardedProto: headers.get("x-forwarded-proto") ?? proto,
      forwardedHost: headers.get("x-forwarded-host") ?? host,
    };
  }

  /**
   * The client: the right-most entry of `chain` (the peer last) that is not one of our proxies,
   * or the left-most when all are. An entry that is no address (`unknown` and `_hidden` from
   * proxies that hide the client, RFC 7239 obfuscated names, garbage) ends the walk at the last
   * address before it, the proxy that wrote it, as nginx's realip module does
   * (`real_ip_recursive on`). As the client, such an entry became `X-Real-IP` and what IP
   * filters refused and rate limits counted, one bucket for every client it hid. Costs one
   * address parse per request, as before.
   */
  #clientOf(chain: readonly string[]): string {
    for (let i = chain.length - 1; i > 0; i--) {
      const address = parseIp(chain[i - 1]);
      if (address === undefined) return chain[i];
      if (!this.trusted.hasAddress(address)) return chain[i - 1];
    }
    return chain[0];
  }
}

/**
 * An `X-Forwarded-For` entry as a bare address: some proxies (Azure Application Gateway, for
 * one) append the client's port, as `203.0.113.7:4711` or `[2001:db8::1]:80`, which no CIDR
 * or IP filter would match (the client IP would then be unparseable and fail closed). An
 * IPv4-mapped entry counts as its IPv4 address, as the peer does (see {@link unmapped}).
 */
function addressOfEntry(entry: string): string {
  const text = entry.trim();
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    return close > 0 ? unmapped(text.slice(1, close)) : text;
  }
  const colon = text.indexOf(":");
  // One colon after a dotted IPv4 address is a port; more colons make an IPv6 address.
  return colon > 0 && colon === text.lastIndexOf(":") && text.includes(".")
    ? text.slice(0, colon)
    : unmapped(text);
}

const COLON = 58;
const MAPPED_V4 = "::ffff:";

/**
 * An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) as its IPv4 address. A listener on `::`
 * (dual-stack) sees its IPv4 clients in that form; passed on, it is an address most backends'
 * IPv4 ranges (allow-lists, rate limits, geo-IP) do not match. The first character decides on
 * the common path: an IPv4 peer starts with a digit, and only `::`-prefixed IPv6 ones read on.
 */
function unmapped(ip: string): string {
  return ip.charCodeAt(0) === COLON && ip.startsWith(MAPPED_V4) &&
      ip.includes(".", MAPPED_V4.length)
    ? ip.slice(MAPPED_V4.length)
    : ip;
}
