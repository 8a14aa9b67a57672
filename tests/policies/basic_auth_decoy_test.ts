/**
 * The decoy hash an unknown user name is checked against, when the users' hashes have
 * different scrypt costs (a migration to a higher cost, half done). It used to imitate
 * whichever user was listed first, so with a cheap legacy hash first, every unknown name cost
 * that cheap check while the other users' wrong passwords cost the dear one: timing told which
 * names exist. The choice is checked structurally (no timing): the decoy imitates the cost
 * most users share, and the gateway warns about the users it cannot hide.
 */
import assert from "node:assert/strict";
import {
  checkPasswordHash,
  decoyForUsers,
  hashPassword,
  type PasswordHash,
  verifyPassword,
} from "../../src/identity/secret_hash.ts";
import type { MemoryLogger } from "../../src/observe/logger.ts";
import { basicAuth, type BasicAuthUser } from "../../src/policies/basic_auth.ts";
import type { GatewayHandle } from "../../src/server/gateway.ts";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

function parsed(text: string): PasswordHash {
  const check = checkPasswordHash(text);
  if (!check.ok) throw new Error(check.message);
  return check.value;
}

const cost = (h: PasswordHash) => [h.N, h.r, h.p];

// Low costs keep the test fast; what matters is that they differ.
const LEGACY = { N: 1024, r: 8, p: 1 };
const CURRENT = { N: 2048, r: 8, p: 1 };

/**
 * Runs `fn` with a gateway whose one route, "guarded", puts `basicAuth` (realm "ops") with
 * `users` in front of an echo upstream; the admin server is off. Both are stopped after `fn`.
 */
async function withBasicAuthGateway(
  users: BasicAuthUser[],
  fn: (gw: GatewayHandle & { logger: MemoryLogger }) => void | Promise<void>,
): Promise<void> {
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      routes: [{ name: "guarded", upstream: "api", use: [basicAuth({ realm: "ops", users })] }],
    }, { admin: false });
    try {
      await fn(gw);
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
  }
}

Deno.test("decoyForUsers: the cost most users share, whatever the order; matches nothing", async () => {
  const legacy = parsed(await hashPassword("old", LEGACY));
  const current = [
    parsed(await hashPassword("a", CURRENT)),
    parsed(await hashPassword("b", CURRENT)),
  ];
  for (
    const order of [[legacy, ...current], [...current, legacy], [current[0], legacy, current[1]]]
  ) {
    const decoy = decoyForUsers(order);
    assert.deepEqual(cost(decoy), [2048, 8, 1]);
    assert.equal(decoy.hash.length, current[0].hash.length);
  }
  const decoy = decoyForUsers([legacy, ...current]);
  for (const password of ["old", "a", "b"]) {
    assert.equal(await verifyPassword(password, decoy), false);
  }
});

Deno.test("decoyForUsers: between equally common costs, the dearer one", async () => {
  const cheap = parsed(await hashPassword("x", LEGACY));
  const dear = parsed(await hashPassword("y", { N: 1024, r: 8, p: 2 }));
  assert.deepEqual(cost(decoyForUsers([cheap, dear])), [1024, 8, 2]);
  assert.deepEqual(cost(decoyForUsers([dear, cheap])), [1024, 8, 2]);
  assert.deepEqual(cost(decoyForUsers([cheap])), [1024, 8, 1]);
  assert.throws(() => decoyForUsers([]), RangeError);
});

Deno.test("basicAuth: with a cheap legacy hash listed first, unknown names cost what most users cost", async () => {
  const users = [
    { name: "old-timer", hash: await hashPassword("legacy pw", LEGACY) },
    { name: "ana", hash: await hashPassword("ana pw", CURRENT) },
    { name: "zoe", hash: await hashPassword("zoe pw", CURRENT) },
  ];
  await withBasicAuthGateway(users, async (gw) => {
    const send = async (user: string, password: string) => {
      const authorization = `Basic ${btoa(`${user}:${password}`)}`;
      const res = await fetch(`${gw.url}/`, { headers: { authorization } });
      await res.body?.cancel();
      return res.status;
    };
    assert.deepEqual(
      [
        await send("old-timer", "legacy pw"),
        await send("ana", "ana pw"),
        await send("zoe", "zoe pw"),
        await send("mallory", "ana pw"),
        await send("ana", "wrong"),
      ],
      [200, 200, 200, 401, 401],
    );
    // The policy's choice, as it reports it: the cost of ana and zoe, not old-timer's.
    const warnings = gw.logger.lines.filter((l) =>
      l.level === "warn" && l.message.startsWith("basicAuth password hashes use different")
    );
    assert.equal(warnings.length, 1, JSON.stringify(gw.logger.lines));
    assert.equal(warnings[0].fields?.decoyCost, "N=2048,r=8,p=1");
    assert.deepEqual(warnings[0].fields?.usersWithOtherCosts, ["old-timer (N=1024,r=8,p=1)"]);
  });
});

Deno.test("basicAuth: users that all share one cost load without a warning", async () => {
  const users = [
    { name: "ana", hash: await hashPassword("ana pw", LEGACY) },
    { name: "zoe", hash: await hashPassword("zoe pw", LEGACY) },
  ];
  await withBasicAuthGateway(users, (gw) => {
    assert.deepEqual(gw.logger.lines.filter((l) => l.message.startsWith("basicAuth")), []);
  });
});
