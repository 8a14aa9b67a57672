/**
 * The `basicAuth` policy through a real gateway and a real upstream: right credentials pass
 * with the user as the subject and `Authorization` stripped; missing, malformed and wrong ones
 * are refused with 401 and a Basic challenge, counted, never forwarded and never echoed.
 * Successes are cached briefly (seen in `ferry_basic_auth_checks_total`); validation names paths.
 */
import assert from "node:assert/strict";
import { hashPassword } from "../../src/identity/secret_hash.ts";
import { basicAuth } from "../../src/policies/basic_auth.ts";
import { parseBasicCredentials } from "../../src/policies/basic_auth_policy.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import {
  assertValid,
  AT,
  type Echo,
  readRefusal,
  startIdentityGateway,
  validationErrors,
} from "./identity_harness.ts";

// The lowest cost Ferry accepts: the behaviour is the same as with the default, only faster.
const CHEAP = { N: 1024 };
const ANA_PASSWORD = "correct horse: battery staple";
const ZOE_PASSWORD = "mot de passe é"; // "é" as one code point (NFC)
const ANA = { name: "ana", hash: await hashPassword(ANA_PASSWORD, CHEAP) };
const ZOE = { name: "Zoë", hash: await hashPassword(ZOE_PASSWORD, CHEAP) };
const CHALLENGE = 'Basic realm="ops console", charset="UTF-8"';

/** `Basic base64(utf-8 "user:password")`. */
function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

Deno.test("right credentials pass: 200, the user is the subject, Authorization is stripped", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "ops console", users: [ANA, ZOE] }));
  const ids: string[] = [];
  let log;
  try {
    const sent = [
      basic("ana", ANA_PASSWORD),
      basic("Zoë", ZOE_PASSWORD),
      // The same name and password typed in decomposed form (e + combining accent): RFC 7617
      // compares in NFC, so this is the same user with the same password.
      basic("Zoe\u0308", "mot de passe e\u0301"),
      // The scheme name is case-insensitive.
      basic("ana", ANA_PASSWORD).replace("Basic", "bAsIc"),
    ];
    for (const authorization of sent) {
      const res = await fetch(`${gw.url}/admin/jobs`, { headers: { authorization } });
      assert.equal(res.status, 200, authorization);
      ids.push(res.headers.get("x-request-id")!);
      const echo: Echo = await res.json();
      assert.equal(echo.path, "/admin/jobs");
      assert.equal(echo.headers.authorization, undefined, "the credentials are not forwarded");
    }
    assert.equal(gw.upstreamCalls, 4);
  } finally {
    log = await gw.close();
  }
  assert.deepEqual(ids.map((id) => log.get(id)?.subject), ["ana", "Zoë", "Zoë", "ana"]);
});

Deno.test("no Basic credentials: 401 missing_credentials with the Basic challenge", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "ops console", users: [ANA] }));
  let id = "";
  let log;
  try {
    for (const headers of [{}, { authorization: "Bearer abc.def.ghi" }] as HeadersInit[]) {
      const refusal = await readRefusal(await fetch(`${gw.url}/`, { headers }));
      assert.equal(refusal.status, 401);
      assert.equal(refusal.type, "https://ferry.dev/problems/unauthorized");
      assert.equal(refusal.challenge, CHALLENGE);
      assert.equal(refusal.cacheControl, "no-store");
      id = refusal.requestId;
    }
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("basicAuth", "missing_credentials"), 2);
  } finally {
    log = await gw.close();
  }
  assert.equal(log.get(id)?.status, 401);
  assert.equal(log.get(id)?.subject, undefined);
});

Deno.test("wrong password and unknown user: the same 401, not forwarded, not echoed", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "ops console", users: [ANA] }));
  try {
    const details: string[] = [];
    for (
      const [user, password] of [
        ["ana", "correct horse: battery stapler"],
        ["ana", ""],
        ["bob-who-does-not-exist", ANA_PASSWORD],
        ["ANA", ANA_PASSWORD], // user names are case-sensitive
      ]
    ) {
      const refusal = await readRefusal(
        await fetch(`${gw.url}/`, { headers: { authorization: basic(user, password) } }),
      );
      assert.equal(refusal.status, 401);
      assert.equal(refusal.challenge, CHALLENGE);
      if (password) assert.ok(!refusal.raw.includes(password), "the password is not echoed");
      assert.ok(!refusal.raw.includes(btoa(`${user}:${password}`)), "nor the header");
      details.push(refusal.detail);
    }
    assert.deepEqual(new Set(details), new Set(["the user name or password is wrong"]));
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("basicAuth", "invalid_credentials"), 4);
  } finally {
    await gw.close();
  }
});

Deno.test("malformed Basic credentials: 401 malformed_credentials", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "ops console", users: [ANA] }));
  try {
    const malformed = [
      "Basic !!!notbase64",
      `Basic ${btoa("no-colon-here")}`,
      `Basic ${btoa("ana:\xff\xfe")}`, // bytes that are not UTF-8
      "Basic",
    ];
    for (const authorization of malformed) {
      const refusal = await readRefusal(await fetch(`${gw.url}/`, { headers: { authorization } }));
      assert.equal(refusal.status, 401, authorization);
      assert.equal(refusal.challenge, CHALLENGE);
    }
    assert.equal(gw.upstreamCalls, 0);
    assert.equal(await gw.failures("basicAuth", "malformed_credentials"), 4);
  } finally {
    await gw.close();
  }
});

Deno.test("forward: true keeps Authorization for the upstream", async () => {
  const gw = await startIdentityGateway(
    basicAuth({ realm: "ops console", users: [ANA], forward: true }),
  );
  try {
    const authorization = basic("ana", ANA_PASSWORD);
    const res = await fetch(`${gw.url}/`, { headers: { authorization } });
    assert.equal(res.status, 200);
    assert.equal((await res.json() as Echo).headers.authorization, authorization);
  } finally {
    await gw.close();
  }
});

Deno.test("a success is cached for cacheTtl; failures and unknown users always run scrypt", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "r", users: [ANA, ZOE] }));
  const count = (check: "cache" | "scrypt") =>
    gw.metric(`ferry_basic_auth_checks_total{check="${check}"}`);
  const send = async (authorization: string) => {
    const res = await fetch(`${gw.url}/`, { headers: { authorization } });
    await res.body?.cancel();
    return res.status;
  };
  try {
    assert.equal(await send(basic("ana", ANA_PASSWORD)), 200);
    assert.deepEqual([await count("scrypt"), await count("cache")], [1, 0]);
    for (let i = 0; i < 3; i++) assert.equal(await send(basic("ana", ANA_PASSWORD)), 200);
    assert.deepEqual([await count("scrypt"), await count("cache")], [1, 3], "three cache hits");

    // A cached success is for that exact pair: another password, even a wrong one, is checked.
    assert.equal(await send(basic("ana", "guess")), 401);
    assert.equal(await send(basic("ana", "guess")), 401);
    // An unknown user costs a full check too, so its answer takes as long as a wrong password.
    assert.equal(await send(basic("mallory", ANA_PASSWORD)), 401);
    // Another user's success is cached separately.
    assert.equal(await send(basic("Zoë", ZOE_PASSWORD)), 200);
    assert.equal(await send(basic("Zoë", ZOE_PASSWORD)), 200);
    assert.deepEqual([await count("scrypt"), await count("cache")], [5, 4]);
  } finally {
    await gw.close();
  }
});

Deno.test('cacheTtl: "0s" runs scrypt on every request', async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "r", users: [ANA], cacheTtl: "0s" }));
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/`, {
        headers: { authorization: basic("ana", ANA_PASSWORD) },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    assert.equal(await gw.metric('ferry_basic_auth_checks_total{check="scrypt"}'), 3);
    assert.equal(await gw.metric('ferry_basic_auth_checks_total{check="cache"}'), 0);
  } finally {
    await gw.close();
  }
});

Deno.test("usersEnv: user:hash entries from the environment", async () => {
  const gw = await startIdentityGateway(basicAuth({ realm: "r", usersEnv: "FERRY_TEST_USERS" }), {
    env: { FERRY_TEST_USERS: `${ANA.name}:${ANA.hash}\n${ZOE.name}:${ZOE.hash}\n` },
  });
  const ids: string[] = [];
  let log;
  try {
    for (const [user, password] of [["ana", ANA_PASSWORD], ["Zoë", ZOE_PASSWORD]]) {
      const res = await fetch(`${gw.url}/`, { headers: { authorization: basic(user, password) } });
      assert.equal(res.status, 200);
      ids.push(res.headers.get("x-request-id")!);
      await res.body?.cancel();
    }
    const wrong = await fetch(`${gw.url}/`, { headers: { authorization: basic("ana", "x") } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
  } finally {
    log = await gw.close();
  }
  assert.deepEqual(ids.map((id) => log.get(id)?.subject), ["ana", "Zoë"]);
});

Deno.test("usersEnv unset or malformed: the gateway refuses to start, naming the variable", async () => {
  const start = (env: Record<string, string>) =>
    startTestGateway({
      upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
      routes: [{ upstream: "api", use: [basicAuth({ realm: "r", usersEnv: "FERRY_TEST_USERS" })] }],
    }, { env });
  await assert.rejects(
    start({}),
    /basicAuth\.usersEnv: environment variable FERRY_TEST_USERS is not set or is empty/,
  );
  await assert.rejects(
    start({ FERRY_TEST_USERS: "ana:plaintext-password" }),
    (e: Error) => {
      assert.match(e.message, /FERRY_TEST_USERS, entry 1: the hash must be an scrypt hash/);
      assert.ok(!e.message.includes("plaintext-password"), "the entry's content is not shown");
      return true;
    },
  );
  await assert.rejects(
    start({ FERRY_TEST_USERS: `ana:${ANA.hash},ana:${ZOE.hash}` }),
    /entry 2: user "ana" is listed twice/,
  );
});

Deno.test("parseBasicCredentials: the password may hold colons; other schemes are not Basic", () => {
  assert.deepEqual(parseBasicCredentials(basic("a", "b:c:d")), { user: "a", password: "b:c:d" });
  assert.deepEqual(parseBasicCredentials(basic("", "")), { user: "", password: "" });
  assert.deepEqual(parseBasicCredentials(null), { missing: true });
  assert.deepEqual(parseBasicCredentials("Basicx abc"), { missing: true });
  assert.deepEqual(parseBasicCredentials("Digest realm=x"), { missing: true });
  assert.deepEqual(parseBasicCredentials("Basic a"), { malformed: true });
});

Deno.test("validation names the exact path and the fix for each bad option", () => {
  const cases: [unknown, Record<string, string>][] = [
    [
      { realm: "r" },
      { [AT]: 'needs "users" (hashed in the config) or "usersEnv" (an environment variable)' },
    ],
    [
      { realm: "r", users: [ANA], usersEnv: "USERS" },
      { [AT]: 'give either "users" or "usersEnv", not both: users come from one place' },
    ],
    [
      { users: [ANA] },
      { [`${AT}.realm`]: "missing: expected a string" },
    ],
    [
      { realm: 'say "hi"', users: [ANA] },
      {
        [`${AT}.realm`]: `${
          JSON.stringify('say "hi"')
        } must be 1 to 200 printable ASCII characters, without double quotes or backslashes`,
      },
    ],
    [
      { realm: "r", users: [{ name: "ana", hash: "$2b$10$abcdefghijklmnopqrstuv" }] },
      {
        [`${AT}.users[0].hash`]: '"$2b$10$abcdefghijklmnopqrstuv" must be an scrypt hash ' +
          '"scrypt$N$r$p$<salt base64>$<hash base64>"; bcrypt hashes are not supported',
      },
    ],
    [
      { realm: "r", users: [{ name: "ana", hash: "hunter2" }] },
      {
        [`${AT}.users[0].hash`]:
          // A password pasted where its hash goes is not echoed: messages reach logs.
          "a string of 7 characters (not shown: it may be a secret) must be an scrypt hash " +
          '"scrypt$N$r$p$<salt base64>$<hash base64>"',
      },
    ],
    [
      { realm: "r", users: [{ name: "ana", hash: ANA.hash.replace("$1024$", "$1000$") }] },
      {
        [`${AT}.users[0].hash`]:
          `${JSON.stringify(ANA.hash.replace("$1024$", "$1000$").slice(0, 60))}` +
          "… must have a cost N that is a power of 2 from 1024 to 1048576",
      },
    ],
    [
      { realm: "r", users: [ANA, { name: "ana", hash: ZOE.hash }] },
      { [`${AT}.users[1].name`]: "is the same user as users[0]" },
    ],
    [
      { realm: "r", users: [{ name: "a:b", hash: ANA.hash }] },
      {
        [`${AT}.users[0].name`]:
          "\"a:b\" must be 1 to 256 characters without ':', ',' or control characters",
      },
    ],
    [
      { realm: "r", users: [] },
      { [`${AT}.users`]: "[] must list at least one user: an empty list refuses every request" },
    ],
    [
      { realm: "r", users: [ANA], cacheTtl: "2h" },
      {
        [`${AT}.cacheTtl`]:
          '"2h" must be a duration like "30s" or "5m", at most "1h" ("0s" turns the cache off)',
      },
    ],
    [
      { realm: "r", usersEnv: "USERS", foward: true },
      { [`${AT}.foward`]: 'unknown key "foward"; did you mean "forward"?' },
    ],
  ];
  for (const [options, expected] of cases) {
    assert.deepEqual(validationErrors("basicAuth", options), expected, JSON.stringify(options));
  }
});

Deno.test("the factory's types require exactly one user source", () => {
  // @ts-expect-error: neither users nor usersEnv.
  const neither = basicAuth({ realm: "r" });
  // @ts-expect-error: both users and usersEnv.
  const both = basicAuth({ realm: "r", users: [ANA], usersEnv: "USERS" });
  assert.deepEqual(Object.keys(validationErrors("basicAuth", neither.options)), [AT]);
  assert.deepEqual(Object.keys(validationErrors("basicAuth", both.options)), [AT]);
  assertValid("basicAuth", basicAuth({ realm: "r", usersEnv: "USERS", cacheTtl: "5m" }).options);
});
