/**
 * The config `../shared/bench/peers.sh` runs Ferry with: one catch-all route to the harness's
 * backend, defaults as shipped (request ids, metrics on; access log off). Ports come from the
 * harness's environment. Variants, for the with/without comparisons in the closing notes:
 *
 * - `FERRY_ACCESS_LOG=<file>`: access log to that file (add `--allow-write=<file>`); run with
 *   `OTEL_DENO=true` and an OTLP endpoint (`bench/otlp_sink.ts`) to trace every request too.
 * - `FERRY_BENCH_AUTH=header|jwt`: `header` sets a bearer token on each request with a `headers`
 *   policy (wrk sends none); `jwt` does the same and then verifies it with `jwt` (RS256, static
 *   keys). Compare the two to see what `jwt` costs.
 * - `FERRY_BENCH_MIRROR=<port>`: mirror every request to a shadow upstream on that port
 *   (`bench/shadow.ts` serves a slow one; a closed port is a down one).
 *
 *   GATEWAY_CMD="deno run --allow-net --allow-read=. --allow-env mod.ts start --config bench/peers.config.ts"
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { defineConfig, headers, jwt, type PolicyDescriptor, type PublicJwk } from "../mod.ts";

const env = (name: string) => Deno.env.get(name);
const backend = env("BACKEND_PORT") ?? "28100";
const port = Number(env("PROXY_PORT") ?? "28090");
const auth = env("FERRY_BENCH_AUTH");
const mirrorPort = env("FERRY_BENCH_MIRROR");

const use: PolicyDescriptor[] = [];
if (auth === "header" || auth === "jwt") {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const token = await new SignJWT({ scope: "bench" })
    .setProtectedHeader({ alg: "RS256", kid: "bench" })
    .setIssuer("https://issuer.bench.test")
    .setAudience("bench")
    .setSubject("bench-user")
    .setExpirationTime("2h")
    .sign(privateKey);
  use.push(headers({ request: { set: { authorization: `Bearer ${token}` } } }));
  if (auth === "jwt") {
    const key = {
      ...await exportJWK(publicKey),
      kid: "bench",
      alg: "RS256",
      use: "sig",
    } as PublicJwk;
    use.push(jwt({
      issuer: "https://issuer.bench.test",
      audiences: ["bench"],
      jwks: { keys: [key] },
      scopes: ["bench"],
      claimsToHeaders: { sub: "x-user-id" },
    }));
  }
}

export default defineConfig({
  listen: { hostname: "127.0.0.1", port },
  admin: { hostname: "127.0.0.1", port: port + 1 },
  upstreams: {
    backend: { targets: [`http://127.0.0.1:${backend}`] },
    shadow: { targets: [`http://127.0.0.1:${mirrorPort ?? "9"}`], retries: false },
  },
  routes: [{
    name: "all",
    upstream: "backend",
    use,
    ...(mirrorPort ? { mirror: { upstream: "shadow", percent: 100, maxConcurrent: 64 } } : {}),
  }],
  accessLog: { to: env("FERRY_ACCESS_LOG") ? { file: env("FERRY_ACCESS_LOG")! } : "off" },
});
