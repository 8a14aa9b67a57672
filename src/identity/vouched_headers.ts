/**
 * Headers an identity policy vouches for (who the caller is, their roles, their consumer name):
 * the client's own copies must never reach the upstream, under any spelling the upstream reads
 * as the same header.
 *
 * Underscores count as dashes. CGI, WSGI, PHP, Rack and nginx's `fastcgi_param` turn both
 * `X-User-Id` and `X_User_Id` into `HTTP_X_USER_ID`, so removing only `x-user-id` let a client
 * send `x_user_id: admin` and be read upstream as the vouched header (the header smuggling of
 * oauth2-proxy's GHSA-vjrc-mh2v-45x6; nginx drops names with underscores for the same reason).
 */
export class VouchedHeaders {
  /** Lower-case names with dashes for underscores: the spelling every variant maps to. */
  readonly #names: ReadonlySet<string>;

  constructor(names: Iterable<string>) {
    this.#names = new Set([...names].map(canonical));
  }

  /** Removes every header whose name is a spelling of a vouched one (`X_User_Id`, `x-user-id`). */
  removeFrom(headers: Headers): void {
    if (this.#names.size === 0) return;
    let spoofed: string[] | undefined;
    // Collected first: deleting while `Headers` is being walked would skip entries.
    headers.forEach((_, name) => {
      if (this.#names.has(canonical(name))) (spoofed ??= []).push(name);
    });
    if (spoofed) { for (const name of spoofed) headers.delete(name); }
  }
}

function canonical(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes("_") ? lower.replaceAll("_", "-") : lower;
}
