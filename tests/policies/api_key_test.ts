/**
 * The `apiKey` policy through a real gateway and a real upstream: a known key passes with its
 * name as the subject and is stripped before forwarding; a missing or unknown key is refused
 * with 401, counted, never forwarded and never echoed. Validation names exact paths.
 */
import assert from "node:assert/strict";
import { hashApiKey } from "../../src/identity/secret_hash.ts";
import { apiKey } from "../../src/policies/api_key.ts";
import { withoutQueryParam } from "../../src/policies/api_key_policy.ts";
import { ConfigError } from "../../src/config/config_error.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";
import {
  assertValid,
  AT,
  type Echo,
  readRefusal,
  startIdentityGateway,
  validationErrors,
} from "./identity_harness.ts";

const MOBILE_KEY = "mk_4f1c9a7e2b8d4a6f9c3e1b7d5a2f8c6e";
const BATCH_KEY = "bk_0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";

Deno.test("a known key passes: 200, the key's name is the subject, the key is stripped", async () => {
  const gw = await startIdentityGateway(apiKey({
    keys: [
      { name: "mobile", hash: hashApiKey(MOBILE_KEY) },
      { name: "batch", hash: hashApiKey(BATCH_KEY) },
    ],
  }));
  const ids: string[] = [];
  let log;
  try {
    for (const key of [MOBILE_KEY, BATCH_KEY]) {
      const res = await fetch(`${gw.url}/orders/7`, { headers: { "x-api-key": key } });
      assert.equal(res.status, 200);
      ids.push(res.headers.get("x-request-id")!);
      const echo: Echo = await res.json();
      assert.equal(echo.path, "/orders/7");
      assert.equal(echo.headers["x-api-key"], undefined, "the key is not forwarded by default");
    }
    assert.equal(gw.upstreamCalls, 2);
    assert.equal(await gw.failures("apiKey", "invalid_credentials"), 0);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(ids[0])?.subject, "mobile");
  assert.equal(log.get(ids[1])?.subject, "batch");
});

Deno.test("a missing key: 401 missing_credentials with an ApiKey challenge, not forwarded", async () => {
  const gw = await startIdentityGateway(apiKey({
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
  }));
  let id = "";
  let log;
  try {
    for (const headers of [{}, { "x-api-key": "" }] as Record<string, string>[]) {
      const refusal = await readRefusal(await fetch(`${gw.url}/orders/7`, { headers }));
      assert.equal(refusal.status, 401);
      assert.equal(refusal.type, "https://ferry.dev/problems/unauthorized");
      assert.equal(refusal.challenge, 'ApiKey header="x-api-key"');
      assert.equal(refusal.cacheControl, "no-store");
      assert.match(refusal.detail, /"x-api-key" header/);
      id = refusal.requestId;
    }
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("apiKey", "missing_credentials"), 2);
    assert.equal(await gw.failures("apiKey", "invalid_credentials"), 0);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(id)?.status, 401);
  assert.equal(log.get(id)?.subject, undefined, "a refused request has no subject");
});

Deno.test("a wrong key: 401 invalid_credentials, not forwarded, not echoed", async () => {
  const gw = await startIdentityGateway(apiKey({
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
  }));
  try {
    // Wrong key, the right key with one character changed, and the stored hash sent as a key.
    const wrong = ["nope-not-a-key", MOBILE_KEY.slice(0, -1) + "f", hashApiKey(MOBILE_KEY)];
    for (const key of wrong) {
      const refusal = await readRefusal(
        await fetch(`${gw.url}/`, { headers: { "x-api-key": key } }),
      );
      assert.equal(refusal.status, 401);
      assert.equal(refusal.type, "https://ferry.dev/problems/unauthorized");
      assert.equal(refusal.challenge, 'ApiKey header="x-api-key"');
      assert.equal(refusal.detail, "the API key is not valid");
      assert.ok(!refusal.raw.includes(key), "the presented key is not echoed");
    }
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("apiKey", "invalid_credentials"), 3);
  } finally {
    await gw.close();
  }
});

Deno.test("consumerHeader carries the key's name and replaces a client-sent value", async () => {
  const gw = await startIdentityGateway(apiKey({
    header: "X-Client-Key",
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
    consumerHeader: "x-consumer",
  }));
  try {
    const res = await fetch(`${gw.url}/`, {
      headers: { "x-client-key": MOBILE_KEY, "x-consumer": "admin" },
    });
    assert.equal(res.status, 200);
    const echo: Echo = await res.json();
    assert.equal(echo.headers["x-consumer"], "mobile");
    assert.equal(echo.headers["x-client-key"], undefined);
  } finally {
    await gw.close();
  }
});

Deno.test("forward: true sends the key on to the upstream", async () => {
  const gw = await startIdentityGateway(apiKey({
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
    forward: true,
  }));
  try {
    const res = await fetch(`${gw.url}/`, { headers: { "x-api-key": MOBILE_KEY } });
    assert.equal(res.status, 200);
    assert.equal((await res.json() as Echo).headers["x-api-key"], MOBILE_KEY);
  } finally {
    await gw.close();
  }
});

Deno.test("a key in the query passes and is removed from the query sent upstream", async () => {
  const gw = await startIdentityGateway(apiKey({
    query: "api_key",
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
  }));
  let id = "";
  let log;
  try {
    const res = await fetch(`${gw.url}/search?q=a%20b&api_key=${MOBILE_KEY}&page=2`);
    assert.equal(res.status, 200);
    id = res.headers.get("x-request-id")!;
    const echo: Echo = await res.json();
    assert.equal(echo.query, "?q=a%20b&page=2", "other parameters keep their exact bytes");

    // Only `query` was configured: a header is not where this route looks.
    const inHeader = await readRefusal(
      await fetch(`${gw.url}/search`, { headers: { "x-api-key": MOBILE_KEY } }),
    );
    assert.equal(inHeader.status, 401);
    assert.equal(inHeader.challenge, 'ApiKey query="api_key"');

    const wrong = await readRefusal(await fetch(`${gw.url}/search?api_key=guess123`));
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.raw.includes("guess123"));

    const twice = await readRefusal(
      await fetch(`${gw.url}/search?api_key=${MOBILE_KEY}&api_key=other`),
    );
    assert.equal(twice.status, 401, "two keys are ambiguous, even if one is right");
    assert.match(twice.detail, /one API key/);
    assert.equal(gw.upstreamCalls, 1);
    assert.equal(await gw.failures("apiKey", "missing_credentials"), 1);
    assert.equal(await gw.failures("apiKey", "invalid_credentials"), 2);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(id)?.subject, "mobile");
});

Deno.test("with a header and a query parameter, either place works", async () => {
  const gw = await startIdentityGateway(apiKey({
    header: "x-api-key",
    query: "key",
    keys: [{ name: "mobile", hash: hashApiKey(MOBILE_KEY) }],
  }));
  try {
    const viaHeader = await fetch(`${gw.url}/a?key=leftover`, {
      headers: { "x-api-key": MOBILE_KEY },
    });
    assert.equal(viaHeader.status, 200);
    assert.equal((await viaHeader.json() as Echo).query, "", "both places are stripped");
    const viaQuery = await fetch(`${gw.url}/a?key=${MOBILE_KEY}`);
    assert.equal(viaQuery.status, 200);
    await viaQuery.body?.cancel();
    const missing = await readRefusal(await fetch(`${gw.url}/a`));
    assert.equal(missing.challenge, 'ApiKey header="x-api-key", query="key"');
  } finally {
    await gw.close();
  }
});

Deno.test("keysEnv: plaintext name:key entries from the environment, two keys for one name", async () => {
  const gw = await startIdentityGateway(apiKey({ keysEnv: "FERRY_TEST_API_KEYS" }), {
    env: { FERRY_TEST_API_KEYS: `mobile:${MOBILE_KEY},\n mobile:${BATCH_KEY}\n` },
  });
  const ids: string[] = [];
  let log;
  try {
    for (const key of [MOBILE_KEY, BATCH_KEY]) {
      const res = await fetch(`${gw.url}/`, { headers: { "x-api-key": key } });
      assert.equal(res.status, 200, "both keys of a rotation pass");
      ids.push(res.headers.get("x-request-id")!);
      await res.body?.cancel();
    }
    const wrong = await fetch(`${gw.url}/`, { headers: { "x-api-key": "mobile" } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  } finally {
    log = await gw.close();
  }
  assert.deepEqual(ids.map((id) => log.get(id)?.subject), ["mobile", "mobile"]);
});

Deno.test("keysEnv unset or malformed: the gateway refuses to start, naming the variable", async () => {
  const config = (env: Record<string, string>) =>
    startTestGateway({
      upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
      routes: [{ upstream: "api", use: [apiKey({ keysEnv: "FERRY_TEST_API_KEYS" })] }],
    }, { env });
  await assert.rejects(
    config({}),
    /apiKey\.keysEnv: environment variable FERRY_TEST_API_KEYS is not set or is empty/,
  );
  await assert.rejects(
    config({ FERRY_TEST_API_KEYS: `mobile:${MOBILE_KEY},just-a-secret-without-name` }),
    (e: Error) => {
      assert.match(e.message, /FERRY_TEST_API_KEYS, entry 2: expected "name:secret"/);
      assert.ok(!e.message.includes("just-a-secret"), "the entry's content is not shown");
      return true;
    },
  );
  await assert.rejects(
    config({ FERRY_TEST_API_KEYS: `a:${MOBILE_KEY},b:${MOBILE_KEY}` }),
    (e: Error) => {
      assert.match(e.message, /entry 2: the same key is also given to "a"/);
      assert.ok(!e.message.includes(MOBILE_KEY));
      return true;
    },
  );
  await assert.rejects(
    config({ FERRY_TEST_API_KEYS: `bad name:${MOBILE_KEY}` }),
    /entry 1: the name must be 1 to 128 letters/,
  );
});

Deno.test("a reload to a keysEnv that is unset is rejected; the previous config serves on", async () => {
  const upstream = startEchoUpstream();
  const config = (use: unknown[]) => ({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{ name: "guarded", upstream: "api", use }],
  });
  const gw = await startTestGateway(config([]), { env: {} });
  try {
    await assert.rejects(gw.reload(config([apiKey({ keysEnv: "FERRY_TEST_API_KEYS" })])), (e) => {
      // A ConfigError, like a validation error: the file reloader logs it, counts it and keeps
      // serving, where any other error would escape the reload.
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /FERRY_TEST_API_KEYS is not set/);
      return true;
    });
    const res = await fetch(`${gw.url}/still-open`);
    assert.equal(res.status, 200, "the previous config, without apiKey, still serves");
    await res.body?.cancel();
    assert.equal(gw.snapshot.version, 1);
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("withoutQueryParam drops every value of the name, decoded, and keeps the rest", () => {
  assert.equal(withoutQueryParam("/p", "k"), "/p");
  assert.equal(withoutQueryParam("/p?k=1", "k"), "/p");
  assert.equal(withoutQueryParam("/p?a=1&k=2&b&k&c=%zz", "k"), "/p?a=1&b&c=%zz");
  assert.equal(withoutQueryParam("/p?%6B=1&kk=2&api+key=3", "k"), "/p?kk=2&api+key=3");
  assert.equal(withoutQueryParam("/p?api+key=3&x=1", "api key"), "/p?x=1");
});

Deno.test("validation names the exact path and the fix for each bad option", () => {
  const key = { name: "mobile", hash: hashApiKey(MOBILE_KEY) };
  const cases: [unknown, Record<string, string>][] = [
    [{}, { [AT]: 'needs "keys" (hashed in the config) or "keysEnv" (an environment variable)' }],
    [
      { keys: [key], keysEnv: "API_KEYS" },
      { [AT]: 'give either "keys" or "keysEnv", not both: keys come from one place' },
    ],
    [
      { keys: [{ name: "mobile", hash: "md5:abc" }] },
      {
        [`${AT}.keys[0].hash`]:
          // Not the shape of a SHA-256 digest: it may be the key itself, so it is not echoed.
          "a string of 7 characters (not shown: it may be a secret) must be " +
          '"sha256:" followed by 64 hex digits (the SHA-256 of the key)',
      },
    ],
    [
      { keys: [{ name: "mobile", hash: MOBILE_KEY }] },
      {
        [`${AT}.keys[0].hash`]:
          // The plaintext key pasted where its digest goes: never echoed.
          `a string of ${MOBILE_KEY.length} characters (not shown: it may be a secret) must be ` +
          '"sha256:" followed by 64 hex digits (the SHA-256 of the key)',
      },
    ],
    [
      { keys: [key, { name: "other", hash: key.hash.toUpperCase().replace("SHA256", "sha256") }] },
      { [`${AT}.keys[1].hash`]: "is the same key as keys[0]: one key cannot have two names" },
    ],
    [
      { keys: [{ name: "has space", hash: key.hash }] },
      { [`${AT}.keys[0].name`]: '"has space" must be 1 to 128 letters, digits or . _ @ ~ + -' },
    ],
    [
      { keys: [] },
      { [`${AT}.keys`]: "[] must list at least one key: an empty list refuses every request" },
    ],
    [
      { keysEnv: "API-KEYS" },
      {
        [`${AT}.keysEnv`]:
          '"API-KEYS" must be an environment variable name (letters, digits and _, not starting with a digit)',
      },
    ],
    [
      { keys: [key], header: "x api key" },
      { [`${AT}.header`]: '"x api key" must be a valid HTTP header name' },
    ],
    [
      { keys: [key], query: "a&b" },
      { [`${AT}.query`]: '"a&b" must be a query parameter name' },
    ],
    [
      { keys: [key], consumerHeader: "x:consumer" },
      { [`${AT}.consumerHeader`]: '"x:consumer" must be a valid HTTP header name' },
    ],
    [
      { keys: [key], forward: "yes" },
      { [`${AT}.forward`]: 'expected true or false, got "yes"' },
    ],
    [
      { keys: [{ ...key, hahs: "x" }] },
      { [`${AT}.keys[0].hahs`]: 'unknown key "hahs"; did you mean "hash"?' },
    ],
  ];
  for (const [options, expected] of cases) {
    assert.deepEqual(validationErrors("apiKey", options), expected, JSON.stringify(options));
  }
});

Deno.test("the factory's types require exactly one key source", () => {
  // @ts-expect-error: neither keys nor keysEnv.
  const neither = apiKey({ header: "x-api-key" });
  // @ts-expect-error: both keys and keysEnv.
  const both = apiKey({ keys: [], keysEnv: "API_KEYS" });
  assert.deepEqual(Object.keys(validationErrors("apiKey", neither.options)), [AT]);
  assert.ok(Object.keys(validationErrors("apiKey", both.options)).includes(AT));
  assertValid("apiKey", apiKey({ keysEnv: "API_KEYS", query: "api_key" }).options);
});
