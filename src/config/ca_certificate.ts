/** Checking a CA certificate given as PEM text before any TLS connection needs it. */

/**
 * The problem with a CA certificate in PEM, or `undefined`. Parsed here (by the TLS stack
 * itself) so that a damaged one is a config error, not a failed handshake on every request. The
 * text is never shown: a private key pasted by mistake must not reach the logs.
 */
export function caCertificateProblem(pem: string): string | undefined {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    return "expected a CA certificate, got a private key: only certificates belong here, " +
      "and the key should be rotated if this config was shared";
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
    return 'expected a PEM certificate ("-----BEGIN CERTIFICATE-----" ... ' +
      '"-----END CERTIFICATE-----"), got text without one';
  }
  try {
    Deno.createHttpClient({ caCerts: [pem] }).close();
  } catch (e) {
    return `the PEM certificate cannot be read: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}
