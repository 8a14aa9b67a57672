/**
 * IP addresses and CIDR ranges, for trusted proxies and IP filters. Addresses become 128-bit
 * bigints (IPv4 mapped into ::ffff:0:0/96) so one comparison serves both families.
 */

/** A parsed range: the network bits and a mask. */
export interface Cidr {
  readonly network: bigint;
  readonly mask: bigint;
  readonly source: string;
}

const V4_MAPPED = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

/** Parses an IPv4 or IPv6 address (brackets and a `%zone` allowed); `undefined` if invalid. */
export function parseIp(text: string): bigint | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(":")) return parseV6(s);
  const v4 = parseV4(s);
  return v4 === undefined ? undefined : V4_MAPPED | v4;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let tail: bigint[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    s = s.slice(0, lastColon + 1) + "0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === "" ? [] : h.split(":"));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (tail.length) (rest.length ? rest : head).pop();
  const groups = [...head, ...rest].length + tail.length;
  if (halves.length === 1 ? groups !== 8 : groups > 7) return undefined;
  const words: bigint[] = [];
  for (const g of head) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    words.push(BigInt("0x" + g));
  }
  for (let i = 0; i < 8 - groups; i++) words.push(0n);
  for (const g of rest) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    words.push(BigInt("0x" + g));
  }
  words.push(...tail);
  return words.reduce((acc, w) => (acc << 16n) | w, 0n);
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a plain address; `undefined` if invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === undefined) return undefined;
  const isV4 = !text.slice(0, slash < 0 ? undefined : slash).includes(":");
  const maxBits = isV4 ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const b = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b) || Number(b) > maxBits) return undefined;
    bits = Number(b);
  }
  const prefixBits = BigInt(bits + (isV4 ? 96 : 0));
  const mask = (ALL << (128n - prefixBits)) & ALL;
  return { network: addr & mask, mask, source: text };
}

/** A set of ranges with a fast `has(ip)`. */
export class CidrSet {
  readonly #ranges: Cidr[];
  constructor(cidrs: readonly string[]) {
    this.#ranges = cidrs.map((c) => {
      const parsed = parseCidr(c);
      if (!parsed) throw new TypeError(`invalid CIDR or IP: ${JSON.stringify(c)}`);
      return parsed;
    });
  }
  get size(): number {
    return this.#ranges.length;
  }
  has(ip: string): boolean {
    if (this.#ranges.length === 0) return false;
    const n = parseIp(ip);
    return n !== undefined && this.hasAddress(n);
  }
  /** Whether an address {@link parseIp} returned is in one of the ranges. */
  hasAddress(n: bigint): boolean {
    return this.#ranges.some((r) => (n & r.mask) === r.network);
  }
}
