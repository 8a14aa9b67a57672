/**
 * Reading the `Cookie` request header. One header can hold what the client sent as several:
 * HTTP/2 clients may split cookies into separate `cookie` fields (RFC 9113 §8.2.3), and
 * `Headers.get` joins fields with ", ", not with "; ". So pairs are split at ";" and at ","; a
 * piece without "=" after a comma is taken as part of the previous value (a value with a
 * comma, which RFC 6265 forbids but some servers set anyway).
 */

/** The `name=value` pieces of a Cookie header, trimmed, in order. */
function cookiePieces(header: string): string[] {
  const pieces: string[] = [];
  for (const part of header.split(";")) {
    const commaParts = part.split(",");
    let current = commaParts[0];
    for (let i = 1; i < commaParts.length; i++) {
      const next = commaParts[i];
      if (next.includes("=")) {
        pieces.push(current.trim());
        current = next;
      } else {
        current += `,${next}`;
      }
    }
    pieces.push(current.trim());
  }
  return pieces.filter((piece) => piece !== "");
}

/** The value of cookie `name` (quotes around it removed), or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  // The common case (one short header, no comma) without building the piece list.
  const pieces = header.includes(",") ? cookiePieces(header) : header.split(";");
  for (const piece of pieces) {
    const eq = piece.indexOf("=");
    if (eq <= 0 || piece.slice(0, eq).trim() !== name) continue;
    const value = piece.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
      ? value.slice(1, -1)
      : value;
  }
  return undefined;
}

/** The Cookie header without cookie `name`, pairs joined by "; "; undefined when none is left. */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept = cookiePieces(header).filter((piece) => {
    const eq = piece.indexOf("=");
    return (eq < 0 ? piece : piece.slice(0, eq)).trim() !== name;
  });
  return kept.length > 0 ? kept.join("; ") : undefined;
}
