/**
 * What an identity check costs per request, through the real policy middleware in a policy
 * chain (no network): `basicAuth` answered from its cache of recent successes, `basicAuth`
 * running scrypt on every request (`cacheTtl: "0s"`) at three costs, and `apiKey` (one SHA-256
 * and a Map lookup) for comparison. Also the bare scrypt verification at the default cost.
 *
 * Run: `deno bench --allow-env bench/basic_auth_bench.ts`.
 */
import { Registry } from "prom-client";
import { hashApiKey, hashPassword, verifyPassword } from "../src/identity/secret_hash.ts";
import { checkPasswordHash } from "../src/identity/secret_hash.ts";
import { MemoryLogger } from "../src/observe/logger.ts";
import { apiKeyPolicy } from "../src/policies/api_key_policy.ts";
import { basicAuthPolicy } from "../src/policies/basic_auth_policy.ts";
import { composeChain } from "../src/policies/chain.ts";
import type { PolicyDefinition, PolicyEnv } from "../src/policies/policy.ts";
import { SharedState } from "../src/policies/shared_state.ts";
import type { ProxyState } from "../src/proxy/state.ts";

const PASSWORD = "correct horse battery staple";
const API_KEY = "ak_5b0e7c3f9a1d4e8b6c2f0a7d9e3b1c5f";

const shared = new SharedState();
const env: PolicyEnv = {
  env: () => undefined,
  shared: (key, create) => shared.get(key, create),
  metrics: new Registry(),
  logger: new MemoryLogger(),
};

/** A chain of one policy in front of a terminal that answers 200 at once. */
// deno-lint-ignore no-explicit-any
function chainOf(definition: PolicyDefinition<string, any>, options: unknown) {
  const middleware = definition.create(definition.schema.parse(options), env);
  return composeChain([{ name: "bench", middleware }], () => new Response(null));
}

function state(): ProxyState {
  return {
    requestId: "bench",
    clientIp: "127.0.0.1",
    upstreamPath: "/",
    match: { route: { config: { name: "bench" } } },
  } as unknown as ProxyState;
}

/** Sends one request carrying `headers` through `chain`; throws unless it passed. */
async function send(chain: ReturnType<typeof chainOf>, headers: Record<string, string>) {
  const res = await chain(new Request("http://gw.bench/", { headers }), undefined, state());
  if (res.status !== 200) throw new Error(`refused: ${res.status}`);
}

const basic = `Basic ${btoa(`ana:${PASSWORD}`)}`;
const costs = [2 ** 14, 2 ** 15, 2 ** 17];
const hashes = new Map<number, string>();
for (const N of costs) hashes.set(N, await hashPassword(PASSWORD, { N }));

const cached = chainOf(basicAuthPolicy, {
  realm: "bench",
  users: [{ name: "ana", hash: hashes.get(2 ** 15)! }],
});
await send(cached, { authorization: basic }); // fills the cache

Deno.bench("basicAuth, cache hit (default cost hash)", { group: "per request" }, async () => {
  await send(cached, { authorization: basic });
});

for (const N of costs) {
  const uncached = chainOf(basicAuthPolicy, {
    realm: "bench",
    users: [{ name: "ana", hash: hashes.get(N)! }],
    cacheTtl: "0s",
  });
  const label = N === 2 ** 15 ? " (default)" : "";
  Deno.bench(`basicAuth, scrypt every request, N=2^${Math.log2(N)}, r=8, p=1${label}`, {
    group: "per request",
    n: 20,
    warmup: 2,
  }, async () => {
    await send(uncached, { authorization: basic });
  });
}

const keyed = chainOf(apiKeyPolicy, { keys: [{ name: "bench", hash: hashApiKey(API_KEY) }] });
Deno.bench("apiKey (SHA-256 + Map lookup)", { group: "per request", baseline: true }, async () => {
  await send(keyed, { "x-api-key": API_KEY });
});

const stored = checkPasswordHash(hashes.get(2 ** 15)!);
if (!stored.ok) throw new Error(stored.message);
Deno.bench("verifyPassword alone, N=2^15", { n: 20, warmup: 2 }, async () => {
  if (!await verifyPassword(PASSWORD, stored.value)) throw new Error("mismatch");
});
