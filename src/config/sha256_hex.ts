/**
 * SHA-256 as lower-case hex: the one fingerprint format config loading uses (the config hash,
 * module contents for no-op saves and for the loader Worker's nested-module check).
 */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const byte of digest) hex += byte < 16 ? `0${byte.toString(16)}` : byte.toString(16);
  return hex;
}
