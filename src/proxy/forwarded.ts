/**
 * X-Forwarded-For/-Proto/-Host and the client IP. Incoming forwarded headers are believed only
 * when the connecting peer is a configured trusted proxy; otherwise they are replaced, so a
 * client cannot spoof its address to an upstream or to an IP filter.
 */
import type { CidrSet } from "./cidr.ts";

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

  resolve(peerIp: string, headers: Headers, proto: string, host: string): ForwardedView {
    if (!this.trusts(peerIp)) {
      return { clientIp: peerIp, forwardedFor: peerIp, forwardedProto: proto, forwardedHost: host };
    }
    const incoming = headers.get("x-forwarded-for");
    const chain = incoming ? incoming.split(",").map((s) => s.trim()).filter(Boolean) : [];
    chain.push(peerIp);
    // The client is the right-most address that is not one of our proxies.
    let clientIp = chain[0];
    for (let i = chain.length - 1; i >= 0; i--) {
      if (!this.trusted.has(chain[i])) {
        clientIp = chain[i];
        break;
      }
    }
    return {
      clientIp,
      forwardedFor: chain.join(", "),
      forwardedProto: headers.get("x-forwarded-proto") ?? proto,
      forwardedHost: headers.get("x-forwarded-host") ?? host,
    };
  }
}
