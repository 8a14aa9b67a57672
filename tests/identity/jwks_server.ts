/**
 * A real HTTP server publishing a JWKS the test controls, for the JWKS cache unit tests: the
 * keys, the status, the caching headers and when answers go out (a gate holds them) can all be
 * changed while it runs, and every request is recorded with a way to await the n-th one.
 */
import { exportJWK, generateKeyPair, type JWK } from "jose";

export interface JwksServer {
  readonly url: string;
  /** `/.well-known/openid-configuration` is served for this issuer (the server's own URL). */
  readonly issuer: string;
  /** Requests received for the JWKS (`/keys`), in order. */
  readonly requests: Request[];
  /** Requests received for the discovery document. */
  readonly discoveries: number;
  /** What `/keys` answers. */
  keys: { keys: JWK[] } | string;
  status: number;
  headers: Record<string, string>;
  /** The `issuer` the discovery document claims (default: the real one). */
  claimedIssuer?: string;
  /** Answers wait for `open()` after this is called. */
  hold(): void;
  open(): void;
  /** Resolves once `n` JWKS requests have arrived. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

export function startJwksServer(initial: { keys: JWK[] }): JwksServer {
  const requests: Request[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  let discoveries = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req): Promise<Response> => {
      const { pathname } = new URL(req.url);
      if (pathname === "/.well-known/openid-configuration") {
        discoveries++;
        return Response.json({ issuer: state.claimedIssuer ?? url, jwks_uri: `${url}/keys` });
      }
      requests.push(req);
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (gate) await gate.promise;
      if (state.status !== 200) return new Response("unavailable", { status: state.status });
      const etag = state.headers["etag"];
      if (etag && req.headers.get("if-none-match") === etag) {
        return new Response(null, { status: 304, headers: state.headers });
      }
      const body = typeof state.keys === "string" ? state.keys : JSON.stringify(state.keys);
      return new Response(body, {
        headers: { "content-type": "application/jwk-set+json", ...state.headers },
      });
    },
  );
  const url: string = `http://127.0.0.1:${server.addr.port}`;
  const state: JwksServer = {
    url,
    issuer: url,
    requests,
    get discoveries() {
      return discoveries;
    },
    keys: initial,
    status: 200,
    headers: {},
    hold() {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      gate = { promise, resolve };
    },
    open() {
      gate?.resolve();
      gate = undefined;
    },
    received(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      state.open();
      await server.shutdown();
    },
  };
  return state;
}

/** A JWK Set with one new ES256 public key under `kid`. */
export async function keySetWithKid(kid: string): Promise<{ keys: JWK[] }> {
  const { publicKey } = await generateKeyPair("ES256");
  return { keys: [{ ...await exportJWK(publicKey), kid, alg: "ES256", use: "sig" }] };
}
