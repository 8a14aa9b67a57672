/**
 * An admin listener on loopback answers only `Host: localhost` or a loopback address: a web page
 * that points its own name at 127.0.0.1 (DNS rebinding) must not read `/config` or reload.
 */
import assert from "node:assert/strict";
import { rawRequest, startTestGateway } from "../helpers/gateway.ts";
import { foreignLoopbackHost } from "../../src/server/loopback_host.ts";

const config = {
  upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
  routes: [{ name: "all", upstream: "api" }],
};

async function adminStatus(host: string, path = "/config"): Promise<string> {
  const gw = await startTestGateway(config);
  try {
    const port = Number(new URL(gw.adminUrl!).port);
    const answer = await rawRequest(
      port,
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    return answer.slice(0, answer.indexOf("\r\n"));
  } finally {
    await gw.close();
  }
}

Deno.test("admin on loopback refuses a rebound name in Host with 403", async () => {
  assert.equal(await adminStatus("attacker.example:9901"), "HTTP/1.1 403 Forbidden");
  assert.equal(await adminStatus("attacker.example", "/healthz"), "HTTP/1.1 403 Forbidden");
});

Deno.test("admin on loopback answers localhost and loopback addresses", async () => {
  for (
    const host of ["127.0.0.1:9901", "localhost:9901", "LOCALHOST", "[::1]:9901", "a.localhost"]
  ) {
    assert.equal(await adminStatus(host), "HTTP/1.1 200 OK", host);
  }
});

Deno.test("foreignLoopbackHost: names only what a loopback listener cannot honestly be called", () => {
  for (
    const ok of [undefined, "", "127.0.0.1", "127.1.2.3:80", "[::1]", "localhost", "x.localhost:1"]
  ) {
    assert.equal(foreignLoopbackHost(ok), undefined, String(ok));
  }
  for (const bad of ["10.0.0.1", "attacker.example", "localhost.attacker.example", "[::2]:80"]) {
    assert.equal(foreignLoopbackHost(bad), bad);
  }
});
