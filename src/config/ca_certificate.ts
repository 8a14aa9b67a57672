/** Checking CA certificates given as PEM text before any TLS connection needs them. */
import { z } from "zod";

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

/**
 * A `caCerts` option (an upstream's `tls`, forwardAuth's `tls`): one or more PEM certificates,
 * each checked by {@link caCertificateProblem}.
 */
export const caCertificates = z.array(
  z.string({ error: "expected a PEM certificate" }).superRefine((pem, ctx) => {
    const message = caCertificateProblem(pem);
    if (message !== undefined) ctx.addIssue({ code: "custom", message, input: pem });
  }),
  { error: "expected a list of PEM certificates" },
).min(1, { error: "expected at least one PEM certificate (or leave caCerts out)" });
