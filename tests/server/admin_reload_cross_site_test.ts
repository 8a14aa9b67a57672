/**
 * `POST /reload` trusts loopback callers, and a browser on the operator's machine is one: any web
 * page could reload the gateway with a plain HTML form posted to http://127.0.0.1:9901/reload (a
 * "simple" request, sent without a CORS preflight). Requests a browser marks as sent from another
 * origin (`Sec-Fetch-Site`, else an `Origin` that is not the admin's own) are refused with 403;
 * curl, scripts and same-origin requests still reload.
 */
import assert from "node:assert/strict";
import {
  type FileGateway,
  get,
  save,
  versionedConfigText,
  withConfigFileGateway,
} from "../helpers/reload.ts";

const config = versionedConfigText;

/** Runs `fn` on a file gateway (not watching) serving version 1 of {@link config}. */
function withVersionedConfig(
  fn: (gw: FileGateway, file: string, upstreamUrl: string) => Promise<void>,
): Promise<void> {
  return withConfigFileGateway(
    async (dir, upstreamUrl) => {
      const file = dir.path("ferry.config.ts");
      await save(file, config(upstreamUrl, 1));
      return file;
    },
    (gw, _dir, file, upstreamUrl) => fn(gw, file, upstreamUrl),
    { watch: false },
  );
}

/** What a browser sends for `<form method=post action=".../reload">` on another site. */
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const REFUSED: [what: string, headers: Record<string, string>][] = [
  ["a form on another site", {
    ...FORM,
    origin: "https://evil.example",
    "sec-fetch-site": "cross-site",
  }],
  ["a page on another port of localhost", {
    ...FORM,
    origin: "http://localhost:3000",
    "sec-fetch-site": "same-site",
  }],
  // Browsers without Fetch Metadata still send Origin on a cross-origin POST.
  ["an older browser, Origin only", { ...FORM, origin: "https://evil.example" }],
  // A sandboxed iframe or a redirect chain sends `Origin: null`.
  ["an opaque origin", { ...FORM, origin: "null" }],
];

for (const [what, headers] of REFUSED) {
  Deno.test(`admin: POST /reload from ${what} is refused and does not reload`, async () => {
    await withVersionedConfig(async (gw, file, upstreamUrl) => {
      await save(file, config(upstreamUrl, 2));
      const res = await get(`${gw.adminUrl}/reload`, { method: "POST", headers, body: "x=1" });
      assert.equal(res.status, 403, res.text);
      assert.match(JSON.parse(res.text).detail, /another origin/);
      assert.equal(gw.snapshot.version, 1);
      assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "1");
    });
  });
}

Deno.test("admin: POST /reload from curl or the admin's own origin still reloads", async () => {
  await withVersionedConfig(async (gw, file, upstreamUrl) => {
    await save(file, config(upstreamUrl, 2));
    const curl = await get(`${gw.adminUrl}/reload`, { method: "POST" });
    assert.equal(curl.status, 200, curl.text);
    assert.deepEqual(JSON.parse(curl.text), { result: "success", version: 2 });

    await save(file, config(upstreamUrl, 3));
    const sameOrigin = await get(`${gw.adminUrl}/reload`, {
      method: "POST",
      headers: { origin: gw.adminUrl, "sec-fetch-site": "same-origin" },
    });
    assert.equal(sameOrigin.status, 200, sameOrigin.text);

    await save(file, config(upstreamUrl, 4));
    // Origin alone (no Fetch Metadata) naming the admin listener itself.
    const ownOrigin = await get(`${gw.adminUrl}/reload`, {
      method: "POST",
      headers: { origin: gw.adminUrl },
    });
    assert.equal(ownOrigin.status, 200, ownOrigin.text);
    assert.equal((await get(`${gw.url}/x`)).headers.get("x-version"), "4");
  });
});
