/**
 * Stored secrets: API key digests, scrypt password hashes (checked against the RFC 7914 test
 * vector, so hashes made by any standard scrypt tool verify), parameter bounds with messages,
 * NFC normalisation, decoys, and constant-time comparison.
 */
import assert from "node:assert/strict";
import {
  apiKeyDigest,
  checkPasswordHash,
  constantTimeEqual,
  decoyPasswordHash,
  hashApiKey,
  hashPassword,
  parseApiKeyHash,
  type PasswordHash,
  verifyPassword,
} from "../../src/identity/secret_hash.ts";

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (h) => parseInt(h, 16));
const ascii = (text: string) => new TextEncoder().encode(text);

/** Parses a hash that must be valid. */
function parsed(text: string): PasswordHash {
  const check = checkPasswordHash(text);
  if (!check.ok) assert.fail(`${text}: ${check.message}`);
  return check.value;
}

Deno.test("API keys: sha256:<hex> of the UTF-8 key, parsed case-insensitively", () => {
  // FIPS 180-2 test vector for "abc".
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(apiKeyDigest("abc"), abc);
  assert.equal(hashApiKey("abc"), `sha256:${abc}`);
  assert.equal(parseApiKeyHash(`sha256:${abc.toUpperCase()}`), abc);
  assert.equal(parseApiKeyHash(`sha256:${abc}`), abc);
  for (const bad of [abc, `sha256:${abc.slice(1)}`, `sha256:${abc}0`, `SHA256:${abc}`, "sha256:"]) {
    assert.equal(parseApiKeyHash(bad), undefined, bad);
  }
});

Deno.test("scrypt: a hash from the RFC 7914 test vector verifies, in this format", async () => {
  // RFC 7914 §12: scrypt(P="pleaseletmein", S="SodiumChloride", N=16384, r=8, p=1, dkLen=64).
  const vector = hex(
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2" +
      "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887",
  );
  const stored = parsed(`scrypt$16384$8$1$${b64(ascii("SodiumChloride"))}$${b64(vector)}`);
  assert.equal(await verifyPassword("pleaseletmein", stored), true);
  assert.equal(await verifyPassword("pleaseletmeout", stored), false);
});

Deno.test("hashPassword: default cost, random salt, verifies the password and no other", async () => {
  const one = await hashPassword("s3cret: with colon", { N: 1024 });
  const two = await hashPassword("s3cret: with colon", { N: 1024 });
  assert.match(one, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(one, two, "a random salt per hash");
  assert.equal(await verifyPassword("s3cret: with colon", parsed(one)), true);
  assert.equal(await verifyPassword("s3cret: with colon", parsed(two)), true);
  assert.equal(await verifyPassword("s3cret: with colon ", parsed(one)), false);
  assert.equal(await verifyPassword("", parsed(one)), false);
  const byDefault = parsed(await hashPassword("x"));
  assert.deepEqual([byDefault.N, byDefault.r, byDefault.p], [32768, 8, 1]);
});

Deno.test("passwords are compared in NFC: composed and decomposed accents match", async () => {
  const stored = parsed(await hashPassword("caf\u00e9", { N: 1024 }));
  assert.equal(await verifyPassword("cafe\u0301", stored), true);
  const storedDecomposed = parsed(await hashPassword("cafe\u0301", { N: 1024 }));
  assert.equal(await verifyPassword("caf\u00e9", storedDecomposed), true);
});

Deno.test("a decoy has the same cost as the hash it imitates and matches nothing", async () => {
  const real = parsed(await hashPassword("pw", { N: 2048, r: 4 }));
  const decoy = decoyPasswordHash(real);
  assert.deepEqual([decoy.N, decoy.r, decoy.p], [2048, 4, 1]);
  assert.equal(decoy.salt.length, real.salt.length);
  assert.equal(decoy.hash.length, real.hash.length);
  assert.equal(await verifyPassword("pw", decoy), false);
});

Deno.test("checkPasswordHash says what is wrong with a stored hash", () => {
  const salt = b64(new Uint8Array(16).fill(7));
  const hash = b64(new Uint8Array(32).fill(9));
  const format = 'must be an scrypt hash "scrypt$N$r$p$<salt base64>$<hash base64>"';
  const cases: [string, string][] = [
    [
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
      `${format}; bcrypt hashes are not supported`,
    ],
    ["hunter2", format],
    [`scrypt$1024$8$1$${salt}`, format],
    [`argon2$1024$8$1$${salt}$${hash}`, format],
    [
      `scrypt$1000$8$1$${salt}$${hash}`,
      "must have a cost N that is a power of 2 from 1024 to 1048576",
    ],
    [
      `scrypt$512$8$1$${salt}$${hash}`,
      "must have a cost N that is a power of 2 from 1024 to 1048576",
    ],
    [
      `scrypt$2097152$8$1$${salt}$${hash}`,
      "must have a cost N that is a power of 2 from 1024 to 1048576",
    ],
    [`scrypt$1024$0$1$${salt}$${hash}`, "must have a block size r from 1 to 32"],
    [`scrypt$1024$8$17$${salt}$${hash}`, "must have a parallelism p from 1 to 16"],
    [`scrypt$1048576$8$1$${salt}$${hash}`, "must need at most 256 MiB per check (128·N·r bytes)"],
    [
      `scrypt$1024$8$1$${b64(new Uint8Array(4))}$${hash}`,
      "must have a base64 salt of at least 8 bytes",
    ],
    [`scrypt$1024$8$1$not*base64$${hash}`, "must have a base64 salt of at least 8 bytes"],
    [
      `scrypt$1024$8$1$${salt}$${b64(new Uint8Array(8))}`,
      "must have a base64 hash of 16 to 64 bytes",
    ],
    [
      `scrypt$1024$8$1$${salt}$${b64(new Uint8Array(65))}`,
      "must have a base64 hash of 16 to 64 bytes",
    ],
  ];
  for (const [text, message] of cases) {
    const check = checkPasswordHash(text);
    assert.deepEqual(check, { ok: false, message }, text);
  }
  assert.ok(checkPasswordHash(`scrypt$1024$8$1$${salt}$${hash}`).ok);
  // Unpadded base64 is accepted too (some tools drop the "=").
  assert.ok(checkPasswordHash(`scrypt$1024$8$1$${salt.replace(/=+$/, "")}$${hash}`).ok);
});

Deno.test("constantTimeEqual compares bytes, and unequal lengths are simply unequal", () => {
  assert.equal(constantTimeEqual(ascii("same bytes"), ascii("same bytes")), true);
  assert.equal(constantTimeEqual(ascii("same bytes"), ascii("same bytez")), false);
  assert.equal(constantTimeEqual(ascii("short"), ascii("shorter")), false);
  assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
});
