/**
 * A redirect whose `to` is a path answers with a path on this host, whatever the request fills
 * in: `/{path}` for a request to `/evil.com/x` must not become `//evil.com/x`, which browsers
 * follow to another host.
 */
import assert from "node:assert/strict";
import { portOf, rawRequest, startTestGateway } from "../helpers/gateway.ts";

async function locationFor(to: string, requestPath: string): Promise<string | undefined> {
  const gw = await startTestGateway({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ redirect: { to, status: 301 } }],
  }, { admin: false });
  try {
    const res = await rawRequest(
      portOf(gw),
      `GET ${requestPath} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`,
    );
    assert.match(res, /^HTTP\/1\.1 301/);
    return /\r\nlocation: ([^\r]*)/i.exec(res)?.[1];
  } finally {
    await gw.close();
  }
}

Deno.test("a path redirect filled with {path} never starts with //", async () => {
  assert.equal(await locationFor("/{path}", "/evil.com/x"), "/evil.com/x");
  assert.equal(await locationFor("/{path}", "/evil.com/x?a=1"), "/evil.com/x?a=1");
});

Deno.test("an absolute redirect target is left as written", async () => {
  assert.equal(await locationFor("https://new.example{path}", "/a/b"), "https://new.example/a/b");
  assert.equal(await locationFor("/new{path}", "/a"), "/new/a");
});
