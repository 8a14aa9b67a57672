/** The `ipFilter` policy's factory (config side: plain data, no dependencies). */
import type { PolicyDescriptor } from "../config/types.ts";
import { descriptor } from "./policy.ts";

/** Options of {@link ipFilter}, as validated (at least one of `allow` and `deny`). */
export interface IpFilterPolicyOptions {
  /** Only these addresses or CIDR ranges get through (IPv4 and IPv6). */
  allow?: string[];
  /** These addresses or ranges are refused, even when `allow` matches them too. */
  deny?: string[];
}

/** Options of {@link ipFilter}: `allow`, `deny` or both. */
export type IpFilterOptions = { allow: string[]; deny?: string[] } | {
  allow?: string[];
  deny: string[];
};

/**
 * Lets requests through by client address. `deny` wins over `allow`; when `allow` is given,
 * every address it does not list is refused. Refusals answer `403` problem+json (reason
 * `ip_denied` in `ferry_auth_failures_total`). Ranges match their own address family: an
 * IPv4 client (IPv4-mapped IPv6 included) is matched by IPv4 ranges only, so `deny: ["::/0"]`
 * turns away IPv6 clients and no one else.
 *
 * The client address is the one the gateway resolved: the connecting peer, or, when that peer
 * is listed in `trust.proxies`, the client named in its `X-Forwarded-For`. From any other peer
 * `X-Forwarded-For` is ignored, so it cannot be used to slip past the filter.
 *
 * @example
 * ```ts
 * ipFilter({ allow: ["10.0.0.0/8", "2001:db8::/32"], deny: ["10.9.0.0/16"] })
 * ```
 */
export function ipFilter(
  options: IpFilterOptions,
): PolicyDescriptor<"ipFilter", IpFilterPolicyOptions> {
  return descriptor("ipFilter", options);
}
