/**
 * `upstreams.*.tls`: private CAs and the expected server name for `https://` targets. A damaged
 * certificate is a config error at load (not a failed handshake on every request), and the text
 * is never echoed: a private key pasted in by mistake must not reach the logs.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";
import { LOCALHOST_KEY, TEST_CA } from "../upstream/servers/tls.ts";

function withTls(tls: unknown) {
  return {
    upstreams: { api: { targets: ["https://10.0.0.7:8443"], tls } },
    routes: [{ upstream: "api" }],
  };
}

function errors(input: unknown) {
  const result = validateConfig(input);
  assert.ok(!result.ok, "expected config errors");
  return result.errors;
}

Deno.test("tls: private CAs and a server name are taken, and default to none", () => {
  const result = validateConfig(withTls({ caCerts: [TEST_CA], serverName: "api.internal" }));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  assert.deepEqual(result.config.upstreams.api.tls, {
    caCerts: [TEST_CA],
    serverName: "api.internal",
  });
  const plain = validateConfig(withTls(undefined));
  assert.ok(plain.ok);
  assert.deepEqual(plain.config.upstreams.api.tls, { caCerts: [], serverName: null });
  const ipv6 = validateConfig(withTls({ serverName: "[fd00::7]" }));
  assert.ok(ipv6.ok);
  assert.equal(ipv6.config.upstreams.api.tls.serverName, "fd00::7");
});

Deno.test("tls: a private key in caCerts is refused without being shown", () => {
  const [error, ...rest] = errors(withTls({ caCerts: [LOCALHOST_KEY] }));
  assert.deepEqual(rest, []);
  assert.equal(error.path, "upstreams.api.tls.caCerts[0]");
  assert.match(error.message, /got a private key/);
  const keyBody = LOCALHOST_KEY.split("\n")[1];
  assert.ok(!JSON.stringify(error).includes(keyBody), "the key must not be echoed");
});

Deno.test("tls: text that is no certificate, or a damaged one, is a config error", () => {
  const [missing] = errors(withTls({ caCerts: ["/etc/ssl/internal-ca.pem"] }));
  assert.equal(missing.path, "upstreams.api.tls.caCerts[0]");
  assert.match(missing.message, /expected a PEM certificate/);

  const damaged = TEST_CA.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!!!!!!!!!!!!!!!!!");
  const [broken] = errors(withTls({ caCerts: [damaged] }));
  assert.equal(broken.path, "upstreams.api.tls.caCerts[0]");
  assert.match(broken.message, /the PEM certificate cannot be read: /);

  const [empty] = errors(withTls({ caCerts: [] }));
  assert.equal(empty.path, "upstreams.api.tls.caCerts");

  const [unknown] = errors(withTls({ insecureSkipVerify: true }));
  assert.match(unknown.path, /^upstreams\.api\.tls/);

  const [name] = errors(withTls({ serverName: "https://api.internal/" }));
  assert.equal(name.path, "upstreams.api.tls.serverName");
});

Deno.test("tls on an upstream with only http:// targets is a warning: it has no effect", () => {
  const result = validateConfig({
    upstreams: {
      plain: { targets: ["http://10.0.0.7:8080"], tls: { serverName: "api.internal" } },
      mixed: { targets: ["http://10.0.0.7:8080", "https://10.0.0.8"], tls: { caCerts: [TEST_CA] } },
    },
    routes: [{ upstream: "plain" }, { match: { path: "/m/*" }, upstream: "mixed" }],
  });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  const tlsWarnings = result.warnings.filter((w) => w.path.endsWith(".tls"));
  assert.deepEqual(tlsWarnings.map((w) => w.path), ["upstreams.plain.tls"]);
  assert.match(tlsWarnings[0].message, /no effect/);
});
