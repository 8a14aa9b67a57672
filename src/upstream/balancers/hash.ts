/**
 * A fast, non-cryptographic 32-bit string hash for consistent hashing: FNV-1a over UTF-16 code
 * units, followed by the murmur3 32-bit finaliser.
 *
 * Why the finaliser: plain FNV-1a mixes a string's last characters only into the low bits, so
 * strings that differ only at the end (`target#1`, `target#2`, …, or sequential user ids) land
 * close together on a ring that orders by the high bits. The finaliser spreads every input bit
 * over the whole word, which keeps virtual nodes and keys evenly spread. Not for anything an
 * attacker must not be able to steer.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Hashes a string to an unsigned 32-bit integer. Allocates nothing. */
export function hashString(s: string): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  // murmur3 fmix32.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
