/**
 * Header and cookie values with non-ASCII text, as clients really send them: UTF-8 bytes on the
 * wire. Canary rules and sticky keys must read the text the client meant (`Zürich`), not one
 * character per byte (`ZÃ¼rich`): a rule naming `Zürich` in the config must match it, and
 * `explain` (given the header as typed) must name the side real traffic lands on.
 */
import assert from "node:assert/strict";
import { portOf, rawRequest, startTestGateway } from "../helpers/gateway.ts";
import { startNamedUpstreams } from "./upstreams.ts";

/** Sends one GET with `headers` written as UTF-8 bytes; returns the answering upstream's name. */
async function sideOf(port: number, path: string, headers: Record<string, string>) {
  const fields = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  // rawRequest encodes the text as UTF-8, which is what browsers and curl put on the wire.
  const raw = await rawRequest(
    port,
    `GET ${path} HTTP/1.1\r\nHost: ferry\r\n${fields}` +
      `Connection: close\r\n\r\n`,
  );
  assert.match(raw, /^HTTP\/1\.1 200 /, raw);
  return raw.slice(raw.indexOf("\r\n\r\n") + 4);
}

// Explain reads typed headers as a client sends them, so text beyond Latin-1 works too.
const NAMES = [
  "Łukasz",
  "日本",
  "José",
  "Zoë",
  "Ünal",
  "Renée",
  "Søren",
  "Ólafur",
  "Françoise",
  "Müller",
  "Ångström",
  "Brontë",
];

Deno.test("a sticky header or cookie with non-ASCII text lands where explain says it does", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const sticky = (by: Record<string, string>) => ({
    targets: [{ upstream: "v1", weight: 50 }, { upstream: "v2", weight: 50 }],
    sticky: by,
  });
  const gw = await startTestGateway({
    upstreams: ups.config,
    routes: [
      { name: "by-header", match: { path: "/h" }, split: sticky({ header: "x-user" }) },
      { name: "by-cookie", match: { path: "/c" }, split: sticky({ cookie: "user" }) },
    ],
  }, { admin: false });
  try {
    const port = portOf(gw);
    for (const name of NAMES) {
      const byHeader = gw.explain("GET", "http://ferry/h", { "x-user": name });
      assert.equal(
        await sideOf(port, "/h", { "x-user": name }),
        byHeader.winner?.traffic?.upstream,
      );
      const byCookie = gw.explain("GET", "http://ferry/c", { cookie: `user=${name}` });
      assert.equal(
        await sideOf(port, "/c", { cookie: `user=${name}` }),
        byCookie.winner?.traffic?.upstream,
      );
    }
  } finally {
    await gw.close();
    await ups.close();
  }
});

Deno.test("a canary rule naming non-ASCII text matches that text sent as UTF-8", async () => {
  const ups = startNamedUpstreams("v1", "v2");
  const gw = await startTestGateway({
    upstreams: ups.config,
    routes: [{
      name: "checkout",
      canary: [
        { when: { header: { "x-site": "Zürich" } }, upstream: "v2" },
        { when: { cookie: { team: { regex: "^Ørsted" } } }, upstream: "v2" },
      ],
      upstream: "v1",
    }],
  }, { admin: false });
  try {
    const port = portOf(gw);
    assert.equal(await sideOf(port, "/", { "x-site": "Zürich" }), "v2");
    assert.equal(await sideOf(port, "/", { cookie: "team=Ørsted-blue" }), "v2");
    assert.equal(await sideOf(port, "/", { "x-site": "Zurich" }), "v1");
  } finally {
    await gw.close();
    await ups.close();
  }
});
