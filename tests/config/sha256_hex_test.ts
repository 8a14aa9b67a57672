/** The config fingerprint format: SHA-256, lower-case hex, leading zeros kept. */
import assert from "node:assert/strict";
import { sha256Hex } from "../../src/config/sha256_hex.ts";

Deno.test("sha256Hex matches the FIPS 180-2 vectors, zero-padded bytes included", async () => {
  const enc = new TextEncoder();
  // "abc" digests to a byte 0x01 (…8f01cf…), which must keep its leading zero.
  assert.equal(
    await sha256Hex(enc.encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    await sha256Hex(enc.encode("")),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});
