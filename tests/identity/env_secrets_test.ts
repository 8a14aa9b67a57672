/**
 * Secrets from environment variables: `name:secret` entries, and errors that name the variable
 * and the entry without showing what it holds. The errors are ConfigErrors, so a reload
 * rejects the config instead of failing.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_error.ts";
import { EnvSecretError, parseEnvEntries, readEnvSecret } from "../../src/identity/env_secrets.ts";
import type { PolicyEnv } from "../../src/policies/policy.ts";

const SOURCE = { policy: "apiKey", option: "keysEnv", variable: "API_KEYS" };

function envWith(vars: Record<string, string>, fail?: Error): PolicyEnv {
  return {
    env: (name) => {
      if (fail) throw fail;
      return vars[name];
    },
  } as PolicyEnv;
}

Deno.test("entries split on commas and newlines; the secret keeps later colons", () => {
  const entries = parseEnvEntries(" a:one,\nb:two:with:colons\r\n,, c:3 \n", SOURCE);
  assert.deepEqual(entries, [
    { name: "a", secret: "one", index: 1 },
    { name: "b", secret: "two:with:colons", index: 2 },
    { name: "c", secret: "3", index: 3 },
  ]);
});

Deno.test("a malformed entry is named by position, never by content", () => {
  for (const bad of ["a:one,secret-without-name", "a:one,:secret", "a:one,b:"]) {
    assert.throws(() => parseEnvEntries(bad, SOURCE), (e: Error) => {
      assert.ok(e instanceof EnvSecretError);
      assert.equal(
        e.message,
        'apiKey.keysEnv: environment variable API_KEYS, entry 2: expected "name:secret"',
      );
      return true;
    });
  }
  assert.throws(() => parseEnvEntries(" , \n", SOURCE), /holds no "name:secret" entries/);
});

Deno.test("an unset, blank or unreadable variable is a ConfigError naming it", () => {
  assert.equal(readEnvSecret(envWith({ API_KEYS: "a:1" }), SOURCE), "a:1");
  for (const env of [envWith({}), envWith({ API_KEYS: "  " })]) {
    assert.throws(() => readEnvSecret(env, SOURCE), (e: Error) => {
      assert.ok(e instanceof ConfigError, "a reload rejects the config, like a validation error");
      assert.equal(
        e.message,
        "apiKey.keysEnv: environment variable API_KEYS is not set or is empty",
      );
      assert.deepEqual((e as ConfigError).issues, [{
        path: "",
        message: e.message,
        severity: "error",
      }]);
      return true;
    });
  }
  const denied = envWith({}, new Error('Requires env access to "API_KEYS"'));
  assert.throws(
    () => readEnvSecret(denied, SOURCE),
    /API_KEYS cannot be read \(Requires env access to "API_KEYS"\)/,
  );
});
