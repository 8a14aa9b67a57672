/**
 * Config values the schema used to accept or report badly, loaded through the real loader from
 * temporary files: zero timeouts (which never fire), secrets echoed in error messages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigFile, type LoadResult } from "../../src/config/load.ts";

const defineUrl = new URL("../../src/config/define.ts", import.meta.url).href;

/** Writes `body` as the object passed to defineConfig in a temporary .ts file and loads it. */
async function loadConfigObject(body: string): Promise<LoadResult> {
  const dir = await Deno.makeTempDir({ prefix: "ferry-config-values-" });
  try {
    const path = join(dir, "routes.config.ts");
    await Deno.writeTextFile(
      path,
      `import { defineConfig } from "${defineUrl}";\nexport default defineConfig(${body});\n`,
    );
    return await loadConfigFile(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function errorsOf(result: LoadResult): { path: string; message: string }[] {
  assert.equal(result.ok, false, "the config should have been refused");
  return result.ok ? [] : result.errors.map(({ path, message }) => ({ path, message }));
}

const ROUTES = `routes: [{ upstream: "api" }]`;

Deno.test("a zero upstream timeout is refused at its path: it would never fire", async () => {
  // Deadlines of 0 ms are never armed, so "0ms" meant "wait forever" for a connect, the
  // response head or a stalled body, while a retry after a zero perTry got 1 ms.
  for (const field of ["connect", "perTry", "total", "idle"]) {
    const result = await loadConfigObject(`{
      upstreams: { api: { targets: ["http://127.0.0.1:3000"], timeouts: { ${field}: "0ms" } } },
      ${ROUTES},
    }`);
    const errors = errorsOf(result);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].path, `upstreams.api.timeouts.${field}`);
    assert.match(errors[0].message, /above 0, got "0ms"/);
  }
});

Deno.test("a zero health-check timeout is refused: a hung target's probe never ended", async () => {
  const result = await loadConfigObject(`{
    upstreams: {
      api: {
        targets: ["http://127.0.0.1:3000"],
        healthCheck: { path: "/healthz", timeout: "0.4ms" },
      },
    },
    ${ROUTES},
  }`);
  const errors = errorsOf(result);
  assert.deepEqual(errors.map((e) => e.path), ["upstreams.api.healthCheck.timeout"]);
  assert.match(errors[0].message, /above 0, got "0.4ms"/);
});

const SECRET = "SuperSecret-4f9c2a";

/** Every message of a refused config, none of which may show `SECRET`. */
async function assertRefusedWithoutSecret(body: string, expectedPath: string) {
  const errors = errorsOf(await loadConfigObject(body));
  assert.ok(errors.some((e) => e.path === expectedPath), JSON.stringify(errors));
  for (const e of errors) assert.doesNotMatch(e.message, new RegExp(SECRET), JSON.stringify(e));
}

Deno.test("a plaintext API key put in `hash` is not echoed in the error", async () => {
  await assertRefusedWithoutSecret(
    `{
      upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
      policies: { keys: { kind: "apiKey", options: { keys: [{ name: "ci", hash: "${SECRET}" }] } } },
      routes: [{ upstream: "api", use: ["keys"] }],
    }`,
    "policies.keys.options.keys[0].hash",
  );
});

Deno.test("a plaintext password put in a basicAuth `hash` is not echoed in the error", async () => {
  await assertRefusedWithoutSecret(
    `{
      upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
      policies: {
        login: { kind: "basicAuth", options: { realm: "r", users: [{ name: "bob", hash: "${SECRET}" }] } },
      },
      routes: [{ upstream: "api", use: ["login"] }],
    }`,
    "policies.login.options.users[0].hash",
  );
});

Deno.test("a token written where its variable's name goes (tokenEnv) is not echoed", async () => {
  await assertRefusedWithoutSecret(
    `{ upstreams: { api: { targets: ["http://127.0.0.1:3000"] } }, admin: { tokenEnv: "${SECRET}" }, ${ROUTES} }`,
    "admin.tokenEnv",
  );
});

Deno.test("a bad Authorization header value set by a policy is not echoed", async () => {
  await assertRefusedWithoutSecret(
    `{
      upstreams: { api: { targets: ["http://127.0.0.1:3000"] } },
      policies: {
        auth: { kind: "headers", options: { request: { set: { authorization: "Bearer ${SECRET}\\n" } } } },
      },
      routes: [{ upstream: "api", use: ["auth"] }],
    }`,
    "policies.auth.options.request.set.authorization",
  );
});

Deno.test("a password in a URL is masked in the error, the rest of the URL shown", async () => {
  const errors = errorsOf(
    await loadConfigObject(`{
      upstreams: { api: { targets: ["http://admin:${SECRET}@10.0.0.1:8080"] } },
      policies: { auth: { kind: "forwardAuth", options: { url: "http://svc:${SECRET}@auth:1/check" } } },
      routes: [{ upstream: "api", use: ["auth"] }],
    }`),
  );
  assert.deepEqual(errors.map((e) => e.path), [
    "policies.auth.options.url",
    "upstreams.api.targets[0]",
  ]);
  for (const e of errors) assert.doesNotMatch(e.message, new RegExp(SECRET), e.message);
  assert.match(errors[1].message, /"http:\/\/\*\*\*@10\.0\.0\.1:8080" holds credentials/);
});

Deno.test("a listen hostname with a port or bad characters is refused at its path", async () => {
  // Deno.listen rejected these only at start-up ("invalid host … invalid char found in FQDN"),
  // with no config path; the port has its own field.
  const cases = [
    ["listen", "127.0.0.1:8080", /the port goes in "port"/],
    ["admin", "localhost:9901", /the port goes in "port"/],
    ["listen", "exa$mple", /expected a hostname or IP address/],
    ["listen", "api..local", /expected a hostname or IP address/],
  ] as const;
  for (const [section, hostname, pattern] of cases) {
    const errors = errorsOf(
      await loadConfigObject(
        `{ ${section}: { hostname: "${hostname}" }, upstreams: { api: { targets: ` +
          `["http://127.0.0.1:3000"] } }, ${ROUTES} }`,
      ),
    );
    assert.deepEqual(errors.map((e) => e.path), [`${section}.hostname`], hostname);
    assert.match(errors[0].message, pattern, hostname);
  }
  // IPv6 literals, bracketed or not, and plain names stay accepted.
  for (const hostname of ["::1", "[::1]", "0.0.0.0", "gateway-1.internal", "localhost"]) {
    const result = await loadConfigObject(
      `{ listen: { hostname: "${hostname}" }, upstreams: { api: { targets: ` +
        `["http://127.0.0.1:3000"] } }, ${ROUTES} }`,
    );
    assert.ok(result.ok, `${hostname}: ${JSON.stringify(result)}`);
  }
});

Deno.test("the admin or demo listener on the gateway's own address is refused at its port", async () => {
  // Both listeners bind at start-up, and the second failed with "address in use", no path.
  const upstreams = `upstreams: { api: { targets: ["http://127.0.0.1:3000"] } }`;
  const admin = errorsOf(
    await loadConfigObject(
      `{ listen: { port: 8080 }, admin: { port: 8080 }, ${upstreams}, ${ROUTES} }`,
    ),
  );
  assert.deepEqual(admin.map((e) => e.path), ["admin.port"]);
  assert.match(admin[0].message, /listen\.port/);
  const demo = errorsOf(
    await loadConfigObject(
      `{ demo: { listen: { hostname: "0.0.0.0", port: 8080 } }, ${upstreams}, ${ROUTES} }`,
    ),
  );
  assert.deepEqual(demo.map((e) => e.path), ["demo.listen.port"]);
  // Port 0 (any free port), another address, or a disabled admin listener is fine.
  for (
    const body of [
      `listen: { port: 0 }, admin: { port: 0 }`,
      `listen: { hostname: "127.0.0.1", port: 8080 }, admin: { hostname: "127.0.0.2", port: 8080 }`,
      `listen: { port: 8080 }, admin: { enabled: false, port: 8080 }`,
    ]
  ) {
    const result = await loadConfigObject(`{ ${body}, ${upstreams}, ${ROUTES} }`);
    assert.ok(result.ok, `${body}: ${JSON.stringify(result)}`);
  }
});
