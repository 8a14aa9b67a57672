/**
 * `forwardAuth`'s `tls.caCerts`: an `https:` auth service whose certificate a private CA signed
 * (a real `Deno.serve` TLS server on 127.0.0.1 with the test CA) is asked when its CA is trusted,
 * and fails closed when it is not. The pooled client that trusts the CA is created once, shared
 * by the routes and reloads that trust the same CAs, and closed when none does any more or the
 * gateway closes.
 */
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { validateConfig } from "../../src/config/validate.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { forwardAuth, type ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import { forwardAuthPolicy } from "../../src/policies/forward_auth_policy.ts";
import type { PolicyEnv } from "../../src/policies/policy.ts";
import { SharedState } from "../../src/policies/shared_state.ts";
import {
  readProblem,
  startEchoUpstream,
  startTestGateway,
  type TestUpstream,
} from "../helpers/gateway.ts";
import { scrapeMetrics } from "../helpers/reload.ts";
import { LOCALHOST_KEY, startTlsUpstream, TEST_CA } from "../upstream/servers/tls.ts";

/** An https auth service (certificate for localhost, signed by the test CA) vouching for "bob". */
function startTlsAuthService() {
  const server = startTlsUpstream(() =>
    new Response(null, { status: 204, headers: { "x-user-id": "bob" } })
  );
  return { url: `${server.url}/verify`, close: () => server.close() };
}

/** A gateway config whose one route asks `auth` with `tls`, in front of `upstream`. */
function configWith(upstream: TestUpstream, auth: string, tls?: ForwardAuthOptions["tls"]) {
  return {
    upstreams: { api: { targets: [upstream.url] } },
    routes: [{
      name: "api",
      upstream: "api",
      use: [forwardAuth({ url: auth, responseHeaders: ["x-user-id"], ...(tls ? { tls } : {}) })],
    }],
  };
}

/** The user the upstream was told of, after checking the gateway let the request through. */
async function allowedUser(gatewayUrl: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/orders`);
  assert.equal(res.status, 200);
  return (await res.json()).headers["x-user-id"];
}

/** Checks the gateway refused the request because the auth service could not be reached. */
async function assertUnavailable(gatewayUrl: string): Promise<void> {
  const res = await fetch(`${gatewayUrl}/orders`);
  assert.equal(res.status, 503);
  assert.equal((await readProblem(res)).type, "https://ferry.dev/problems/auth-unavailable");
}

Deno.test("an https auth service signed by a private CA is asked when tls.caCerts trusts it", async () => {
  const auth = startTlsAuthService();
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway(configWith(upstream, auth.url, { caCerts: [TEST_CA] }));
    try {
      assert.equal(await allowedUser(gw.url), "bob");
      assert.equal(upstream.received.length, 1);
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.close();
  }
});

Deno.test("without tls.caCerts, an auth service signed by an unknown CA fails closed", async () => {
  const auth = startTlsAuthService();
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway(configWith(upstream, auth.url));
    try {
      await assertUnavailable(gw.url);
      assert.equal(upstream.received.length, 0, "the upstream never sees the request");
      const metrics = await scrapeMetrics(gw.adminUrl!);
      assert.equal(
        metrics.get('ferry_auth_failures_total{policy="forwardAuth",reason="unreachable"}'),
        1,
      );
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.close();
  }
});

Deno.test("a reload that adds or drops tls.caCerts changes which CAs the auth call trusts", async () => {
  const auth = startTlsAuthService();
  const upstream = startEchoUpstream();
  try {
    const gw = await startTestGateway(configWith(upstream, auth.url, { caCerts: [TEST_CA] }));
    try {
      assert.equal(await allowedUser(gw.url), "bob");
      await gw.reload(configWith(upstream, auth.url));
      await assertUnavailable(gw.url);
      await gw.reload(configWith(upstream, auth.url, { caCerts: [TEST_CA] }));
      assert.equal(await allowedUser(gw.url), "bob");
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await auth.close();
  }
});

/** A policy env over `shared` that records every value the policy created in it. */
function recordingEnv(shared: SharedState, created: unknown[]): PolicyEnv {
  return {
    env: () => undefined,
    shared: (key, create) =>
      shared.get(key, () => {
        const value = create();
        created.push(value);
        return value;
      }),
    metrics: new Registry(),
    logger: new MemoryLogger(),
  };
}

/** The HTTP clients among `values`. */
function clientsIn(values: unknown[]): Deno.HttpClient[] {
  return values.filter((v): v is Deno.HttpClient => v instanceof Deno.HttpClient);
}

/** Whether `client` was closed already: closing a closed client throws `BadResource`. */
function wasClosed(client: Deno.HttpClient): boolean {
  try {
    client.close();
    return false;
  } catch (e) {
    if (e instanceof Deno.errors.BadResource) return true;
    throw e;
  }
}

Deno.test("the client trusting a CA is made once, kept across reloads and closed when no route trusts it", async () => {
  const shared = new SharedState();
  const created: unknown[] = [];
  const env = recordingEnv(shared, created);
  const withCa = { url: "https://localhost:1/verify", tls: { caCerts: [TEST_CA] } };
  try {
    // Two routes trusting the same CA, then a reload that keeps them: one client.
    for (let build = 0; build < 2; build++) {
      shared.beginBuild();
      forwardAuthPolicy.create(withCa, env);
      forwardAuthPolicy.create(withCa, env);
      assert.equal(shared.commitBuild(), undefined, "nothing retired while it is in use");
    }
    const [client] = clientsIn(created);
    assert.equal(clientsIn(created).length, 1);

    // A reload whose forwardAuth trusts no private CA retires it.
    shared.beginBuild();
    forwardAuthPolicy.create({ url: "https://localhost:1/verify" }, env);
    const closeRetired = shared.commitBuild();
    assert.ok(closeRetired, "the client trusting the CA is retired");
    await closeRetired();
    assert.ok(wasClosed(client), "the retired client was closed");

    // The default client is closed with the gateway.
    const [, defaultClient] = clientsIn(created);
    assert.ok(defaultClient);
    await shared.close();
    assert.ok(wasClosed(defaultClient), "the gateway's close closed the default client");
  } finally {
    await shared.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Validation

const AT = "routes[0].use[0].options";

/** Validation errors (path → message) for a route using forwardAuth with `tls`. */
function errorsFor(tls: unknown): Record<string, string> {
  const result = validateConfig({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{
      upstream: "api",
      use: [{ kind: "forwardAuth", options: { url: "https://auth.internal/verify", tls } }],
    }],
  });
  if (result.ok) return {};
  return Object.fromEntries(result.errors.map((e) => [e.path, e.message]));
}

Deno.test("tls.caCerts is checked at load, and a private key pasted by mistake is not echoed", () => {
  assert.deepEqual(errorsFor({ caCerts: [TEST_CA] }), {});
  assert.deepEqual(errorsFor({}), {});

  const key = errorsFor({ caCerts: [LOCALHOST_KEY] });
  assert.match(key[`${AT}.tls.caCerts[0]`], /^expected a CA certificate, got a private key/);
  assert.ok(!JSON.stringify(key).includes("MIGHAgEA"), "the key is not shown");

  assert.match(
    errorsFor({ caCerts: ["not a certificate"] })[`${AT}.tls.caCerts[0]`],
    /^expected a PEM certificate/,
  );
  const damaged = TEST_CA.replace("MIIBZTCC", "MIIBZTC!");
  assert.match(
    errorsFor({ caCerts: [damaged] })[`${AT}.tls.caCerts[0]`],
    /^the PEM certificate cannot be read/,
  );
  assert.equal(
    errorsFor({ caCerts: [] })[`${AT}.tls.caCerts`],
    "expected at least one PEM certificate (or leave caCerts out)",
  );
  assert.match(errorsFor({ serverName: "auth" })[`${AT}.tls.serverName`], /unknown/i);
});
