/**
 * Stored secrets and how they are checked: API keys as SHA-256 digests (`sha256:<hex>`),
 * passwords as scrypt hashes (`scrypt$N$r$p$salt$hash`), and constant-time comparison.
 *
 * Why two algorithms: an API key is a long random string, so a single fast hash already makes
 * it infeasible to recover from its digest (there is nothing to guess), and a fast hash lets the
 * gateway find the key by its digest on every request. A password is chosen by a person and
 * can be guessed from a fast digest by trying a dictionary, so it gets a slow, memory-hard KDF.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

// ---------------------------------------------------------------------------------------------
// Constant-time comparison

/**
 * Whether `a` and `b` hold the same bytes, in time that depends only on their length. Lengths
 * are not secret here (digests have a fixed size), so different lengths answer at once.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// API keys

const API_KEY_HASH = /^sha256:([0-9a-fA-F]{64})$/;

/** The SHA-256 digest of `key` as lower-case hex: how keys are looked up. */
export function apiKeyDigest(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The stored form of an API key: `sha256:<64 hex digits>`. */
export function hashApiKey(key: string): string {
  return `sha256:${apiKeyDigest(key)}`;
}

/** The lower-case hex digest in a stored API key hash, or `undefined` if malformed. */
export function parseApiKeyHash(text: string): string | undefined {
  return API_KEY_HASH.exec(text)?.[1].toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Passwords (scrypt)

/** A parsed `scrypt$N$r$p$salt$hash`. */
export interface PasswordHash {
  /** CPU/memory cost: a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

/** Cost parameters of {@link hashPassword}. */
export interface ScryptCost {
  N?: number;
  r?: number;
  p?: number;
}

/**
 * Default cost: N=2^15, r=8, p=1 uses 32 MiB per verification (scrypt needs 128·N·r bytes).
 * OWASP lists N=2^17 as its first choice; that costs 4× the memory and time per request on a
 * gateway, so Ferry defaults lower and caches successful checks briefly (see `basicAuth`).
 */
export const DEFAULT_SCRYPT_COST: Readonly<Required<ScryptCost>> = { N: 2 ** 15, r: 8, p: 1 };

/**
 * Bounds on stored parameters. A hash in the config decides how much memory and time each
 * request costs, so absurd values are rejected at load instead of stalling the gateway.
 */
const LIMITS = {
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  maxMemory: 256 * 1024 * 1024,
  minSalt: 8,
  minHash: 16,
  maxHash: 64,
};

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function fromBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text) || text.replace(/=+$/, "").length % 4 === 1) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** A parsed hash, or a message starting with "must" that says what is wrong. */
export type PasswordHashCheck = { ok: true; value: PasswordHash } | { ok: false; message: string };

const FORMAT = 'must be an scrypt hash "scrypt$N$r$p$<salt base64>$<hash base64>"';

/** Parses a stored password hash and checks its parameters are within Ferry's bounds. */
export function checkPasswordHash(text: string): PasswordHashCheck {
  if (/^\$2[abxy]\$/.test(text)) {
    return { ok: false, message: `${FORMAT}; bcrypt hashes are not supported` };
  }
  const parts = text.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return { ok: false, message: FORMAT };
  const [N, r, p] = parts.slice(1, 4).map((s) => (/^\d{1,8}$/.test(s) ? Number(s) : NaN));
  if (!isPowerOfTwo(N) || N < LIMITS.minN || N > LIMITS.maxN) {
    return {
      ok: false,
      message: `must have a cost N that is a power of 2 from ${LIMITS.minN} to ${LIMITS.maxN}`,
    };
  }
  if (!(r >= 1 && r <= LIMITS.maxR)) {
    return { ok: false, message: `must have a block size r from 1 to ${LIMITS.maxR}` };
  }
  if (!(p >= 1 && p <= LIMITS.maxP)) {
    return { ok: false, message: `must have a parallelism p from 1 to ${LIMITS.maxP}` };
  }
  if (128 * N * r > LIMITS.maxMemory) {
    return { ok: false, message: "must need at most 256 MiB per check (128·N·r bytes)" };
  }
  const salt = fromBase64(parts[4]);
  if (!salt || salt.length < LIMITS.minSalt) {
    return { ok: false, message: `must have a base64 salt of at least ${LIMITS.minSalt} bytes` };
  }
  const hash = fromBase64(parts[5]);
  if (!hash || hash.length < LIMITS.minHash || hash.length > LIMITS.maxHash) {
    return {
      ok: false,
      message: `must have a base64 hash of ${LIMITS.minHash} to ${LIMITS.maxHash} bytes`,
    };
  }
  return { ok: true, value: { N, r, p, salt, hash } };
}

function derive(password: string, salt: Uint8Array, length: number, cost: Required<ScryptCost>) {
  // RFC 7617: with charset="UTF-8", user names and passwords are compared in NFC, so "é" typed
  // as one code point or as e + accent is the same password.
  const secret = password.normalize("NFC");
  // Node refuses to use more than `maxmem` (32 MiB by default): allow what the cost needs.
  const maxmem = 128 * cost.N * cost.r * (cost.p + 1) + 1024 * 1024;
  return new Promise<Uint8Array>((resolve, reject) => {
    scrypt(secret, salt, length, { ...cost, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    });
  });
}

/**
 * Hashes `password` for the config: `scrypt$32768$8$1$<salt>$<hash>` with a random 16-byte salt
 * and a 32-byte hash. Runs on a worker thread, not the event loop.
 */
export async function hashPassword(password: string, cost: ScryptCost = {}): Promise<string> {
  const full = { ...DEFAULT_SCRYPT_COST, ...cost };
  const salt = new Uint8Array(randomBytes(16));
  const hash = await derive(password, salt, 32, full);
  return `scrypt$${full.N}$${full.r}$${full.p}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** Whether `password` matches `stored`, compared in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const { N, r, p } = stored;
  const derived = await derive(password, stored.salt, stored.hash.length, { N, r, p });
  return constantTimeEqual(derived, stored.hash);
}

/**
 * A hash no password matches, with the same cost as `like`: checked for unknown user names so
 * that a wrong name takes as long as a wrong password and does not reveal which names exist.
 */
export function decoyPasswordHash(like: PasswordHash): PasswordHash {
  return {
    ...like,
    salt: new Uint8Array(randomBytes(like.salt.length)),
    hash: new Uint8Array(randomBytes(like.hash.length)),
  };
}

/** Whether two hashes cost the same to check (scrypt's N, r and p; lengths barely matter). */
export function sameScryptCost(a: PasswordHash, b: PasswordHash): boolean {
  return a.N === b.N && a.r === b.r && a.p === b.p;
}

/**
 * The decoy for a list of users (at least one): it imitates the cost most of their hashes
 * share, so that an unknown name takes as long as a wrong password of as many users as
 * possible, whatever order they are listed in. Among equally common costs the dearest wins:
 * a guess at a name then costs the guesser no less than a guess at a password. Users whose
 * cost differs can still be told from unknown names by timing; rehashing them fixes that.
 */
export function decoyForUsers(hashes: readonly PasswordHash[]): PasswordHash {
  // Counted by cost in one pass: a `usersEnv` list may be long.
  const counts = new Map<string, { like: PasswordHash; count: number }>();
  for (const hash of hashes) {
    const key = `${hash.N}:${hash.r}:${hash.p}`;
    const seen = counts.get(key);
    if (seen) seen.count++;
    else counts.set(key, { like: hash, count: 1 });
  }
  let best: { like: PasswordHash; count: number } | undefined;
  for (const group of counts.values()) {
    const work = (h: PasswordHash) => h.N * h.r * h.p;
    if (
      best === undefined || group.count > best.count ||
      (group.count === best.count && work(group.like) > work(best.like))
    ) best = group;
  }
  if (best === undefined) throw new RangeError("a decoy needs at least one user's hash");
  return decoyPasswordHash(best.like);
}
