/**
 * How the `ipFilter` policy validates its options and filters by client address. It reads
 * `c.var.proxy.clientIp`, which the gateway resolved from the peer and `trust.proxies`: this
 * policy never reads `X-Forwarded-For` itself, so it honours exactly what the gateway trusts.
 */
import { z } from "zod";
import { authFailures, refuse } from "../identity/auth_failure.ts";
import { CidrSet, parseCidr, parseIp } from "../proxy/cidr.ts";
import type { IpFilterPolicyOptions } from "./ip_filter.ts";
import type { PolicyDefinition } from "./policy.ts";

const KIND = "ipFilter";

const ranges = (option: string, empty: string) =>
  z.array(
    z.string().refine(
      (text) => parseCidr(text) !== undefined,
      'must be an IP address or a CIDR range such as "10.0.0.0/8" or "2001:db8::/32"',
    ),
  ).refine(
    (list) => list.length > 0,
    `must list at least one range (leave "${option}" out ${empty})`,
  );

const schema = z.strictObject({
  allow: ranges("allow", "to allow every address not denied").optional(),
  deny: ranges("deny", "when nothing is denied").optional(),
}).superRefine((value, ctx) => {
  if (value.allow === undefined && value.deny === undefined) {
    ctx.addIssue({
      code: "custom",
      message: 'needs "allow", "deny" or both: an ipFilter without either lets everyone in',
      input: value,
    });
  }
}, {
  when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value),
});

/** Something that says whether an address is in it: {@link AddressRanges} or a `CidrSet`. */
export interface RangeSet {
  has(ip: string): boolean;
}

// Addresses are 128-bit, IPv4 mapped into ::ffff:0:0/96 (see `src/proxy/cidr.ts`).
const MAPPED_PREFIX = 0xffffn;
const TOP_96_BITS = (1n << 96n) - 1n;

/**
 * The ranges of an `allow` or `deny` list, matched by address family. IPv4 addresses are held
 * mapped into ::ffff:0:0/96, so an IPv6 range short enough to contain that block (`::/0` up to
 * `::/80`) would otherwise also match every IPv4 client: `deny: ["::/0"]`, meant to turn IPv6
 * away, would refuse everyone, and `allow: ["::/0"]` would let every IPv4 address in. As in
 * nginx, an IPv4 client is only matched by IPv4 ranges (and IPv6 ranges inside ::ffff:0:0/96).
 */
export class AddressRanges implements RangeSet {
  readonly #all: CidrSet;
  readonly #forIpv4: CidrSet;

  constructor(sources: readonly string[]) {
    this.#all = new CidrSet(sources);
    // A range with a prefix of at least 96 bits that can hold an IPv4 address lies inside
    // ::ffff:0:0/96; shorter ones are IPv6 ranges that only cover the block by arithmetic.
    this.#forIpv4 = new CidrSet(
      sources.filter((source) => (parseCidr(source)!.mask >> 32n) === TOP_96_BITS),
    );
  }

  has(ip: string): boolean {
    const address = parseIp(ip);
    if (address === undefined) return false;
    const ipv4 = address >> 32n === MAPPED_PREFIX;
    return (ipv4 ? this.#forIpv4 : this.#all).has(ip);
  }
}

/** Whether `ip` may pass: not denied, and allowed when there is an allow list. */
export function ipPasses(ip: string, allow: RangeSet | undefined, deny: RangeSet): boolean {
  // An address that does not parse cannot be placed in any range: refuse it, fail closed.
  if (parseIp(ip) === undefined) return false;
  if (deny.has(ip)) return false;
  return allow === undefined || allow.has(ip);
}

/** Definition of the `ipFilter` policy. */
export const ipFilterPolicy: PolicyDefinition<"ipFilter", IpFilterPolicyOptions> = {
  kind: KIND,
  schema: schema as z.ZodType<IpFilterPolicyOptions>,
  create(options, env) {
    const allow = options.allow ? new AddressRanges(options.allow) : undefined;
    const deny = new AddressRanges(options.deny ?? []);
    const failures = authFailures(env);
    return async (c, next) => {
      const state = c.get("proxy");
      if (!ipPasses(state.clientIp, allow, deny)) {
        // 403 without a challenge: no credential would change the answer.
        return refuse(failures, KIND, state, {
          status: 403,
          reason: "ip_denied",
          detail: `client address ${state.clientIp} may not use this route`,
        });
      }
      await next();
    };
  },
};
