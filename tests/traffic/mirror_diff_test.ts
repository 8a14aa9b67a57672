/**
 * Issue 7 acceptance, diffing: with the shadow answering differently on every 10th request, the
 * diff counter, the admin `/mirror` summary and the log report exactly those requests, with both
 * request ids. Ignored JSON fields do not count as differences; other fields still do.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream } from "../helpers/gateway.ts";
import { finished, metricValue, pollMirror, type ShadowSeen } from "./mirror_helpers.ts";

Deno.test("mirror diff: a shadow differing on every 10th request gives exactly 10 mismatches in 100", async () => {
  const primary = startUpstream((req) =>
    new Response(`item ${new URL(req.url).pathname}`, { headers: { "content-type": "text/plain" } })
  );
  const differed: ShadowSeen[] = [];
  let arrivals = 0;
  const shadow = startUpstream((req) => {
    const path = new URL(req.url).pathname;
    // Deterministic: the 10th, 20th, ... request to arrive gets another body.
    if (++arrivals % 10 !== 0) {
      return new Response(`item ${path}`, { headers: { "content-type": "text/plain" } });
    }
    differed.push({ method: req.method, path, headers: req.headers, body: new Uint8Array() });
    return new Response(`changed ${path}`, { headers: { "content-type": "text/plain" } });
  });
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{
      name: "api",
      upstream: "api",
      mirror: { upstream: "shadow", maxConcurrent: 1000, diff: {} },
    }],
  });
  try {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${gw.url}/items/${i}`, {
        headers: { "x-request-id": `client-${i}` },
      });
      assert.equal(await res.text(), `item /items/${i}`, "the client always gets the primary's");
    }
    const s = await pollMirror(gw.adminUrl!, "api", finished(100));
    assert.deepEqual(s.requests, { sent: 100, dropped: 0, skipped: 0, error: 0 });
    assert.deepEqual(s.diff, { match: 90, mismatch: 10, error: 0 });
    const base = `ferry_mirror_diff_total{route="api"`;
    assert.equal(await metricValue(gw.adminUrl!, `${base},result="match"}`), 90);
    assert.equal(await metricValue(gw.adminUrl!, `${base},result="mismatch"}`), 10);
    assert.equal(await metricValue(gw.adminUrl!, `${base},result="error"}`), 0);

    // The mismatches are exactly the requests whose copy the shadow answered differently,
    // named by the client's id and by the copy's own id.
    const expected = differed.map((d) => ({
      requestId: d.headers.get("x-ferry-mirror-of"),
      mirrorRequestId: d.headers.get("x-request-id"),
      path: d.path,
    })).sort((a, b) => a.requestId!.localeCompare(b.requestId!));
    const byId = <T extends { requestId: string | null }>(rows: T[]) =>
      [...rows].sort((a, b) => a.requestId!.localeCompare(b.requestId!));
    assert.equal(expected.length, 10);
    assert.deepEqual(
      byId(s.recentMismatches!.map(({ requestId, mirrorRequestId, path }) => ({
        requestId,
        mirrorRequestId,
        path,
      }))),
      expected,
    );
    for (const m of s.recentMismatches!) {
      assert.match(m.requestId, /^client-\d+$/);
      assert.notEqual(m.mirrorRequestId, m.requestId);
      assert.deepEqual(m.differences.map((d) => d.part), ["body"]);
    }
    const logged = gw.logger.lines.filter((l) =>
      l.message === "mirrored response differs from the primary"
    );
    assert.deepEqual(
      byId(logged.map((l) => ({
        requestId: l.fields!.requestId as string,
        mirrorRequestId: l.fields!.mirrorRequestId as string,
        path: l.fields!.path as string,
      }))),
      expected,
    );
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror diff: ignored JSON fields are not differences, other fields and headers are", async () => {
  let stamp = 0;
  /** The same document from both sides, except for the fields a test lets differ. */
  const doc = (side: string, path: string) => ({
    id: path,
    timestamp: `${side}-${++stamp}`,
    meta: {
      requestId: `${side}-${stamp}`,
      version: path.endsWith("/changed") && side === "shadow" ? 2 : 1,
    },
    items: [{ id: 1, at: `${side}-${stamp}` }, { id: 2, at: `${side}-${stamp}` }],
  });
  const primary = startUpstream((req) => Response.json(doc("primary", new URL(req.url).pathname)));
  const shadow = startUpstream((req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/typed")) {
      return new Response(JSON.stringify(doc("primary", path)), {
        headers: { "content-type": "text/plain" },
      });
    }
    return Response.json(doc("shadow", path));
  });
  const ignoring = { ignoreJsonFields: ["timestamp", "meta.requestId", "items.at"] };
  const gw = await startTestGateway({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [
      {
        name: "lenient",
        match: { path: "/lenient/*" },
        upstream: "api",
        mirror: { upstream: "shadow", diff: ignoring },
      },
      {
        name: "strict",
        match: { path: "/strict/*" },
        upstream: "api",
        mirror: { upstream: "shadow", diff: {} },
      },
    ],
  });
  try {
    for (const path of ["/lenient/a", "/lenient/b", "/lenient/changed", "/strict/a"]) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal((await res.json()).id, path);
    }
    const lenient = await pollMirror(gw.adminUrl!, "lenient", finished(3));
    // a and b differ only in ignored fields; "changed" also in meta.version, which is not ignored.
    assert.deepEqual(lenient.diff, { match: 2, mismatch: 1, error: 0 });
    assert.equal(lenient.recentMismatches![0].path, "/lenient/changed");
    assert.deepEqual(lenient.recentMismatches![0].differences.map((d) => d.part), ["body"]);
    assert.match(JSON.stringify(lenient.recentMismatches![0].differences), /JSON fields ignored/);
    // Without ignored fields the same answers differ: the timestamps really do differ.
    const strict = await pollMirror(gw.adminUrl!, "strict", finished(1));
    assert.deepEqual(strict.diff, { match: 0, mismatch: 1, error: 0 });

    // The default compared header is content-type; a shadow sending another one is a mismatch
    // naming the header, never its value.
    await (await fetch(`${gw.url}/lenient/typed`)).arrayBuffer();
    const typed = await pollMirror(gw.adminUrl!, "lenient", finished(4));
    assert.deepEqual(typed.diff, { match: 2, mismatch: 2, error: 0 });
    const [header, body] = typed.recentMismatches![1].differences;
    assert.deepEqual(header, { part: "header", name: "content-type" });
    // A text body is hashed as it is (only JSON bodies lose their ignored fields).
    assert.equal(body.part, "body");
    assert.doesNotMatch(JSON.stringify(body), /text\/plain|application\/json/);
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});

Deno.test("mirror: percent 10 mirrors exactly every 10th request, and a reload keeps the counts", async () => {
  const primary = startUpstream(() => new Response("primary"));
  const shadow = startUpstream(() => new Response("shadow"));
  const config = (percent: number) => ({
    upstreams: { api: { targets: [primary.url] }, shadow: { targets: [shadow.url] } },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", percent } }],
  });
  const gw = await startTestGateway(config(10));
  try {
    for (let i = 1; i <= 100; i++) {
      await (await fetch(`${gw.url}/n/${i}`)).arrayBuffer();
    }
    const s = await pollMirror(gw.adminUrl!, "api", finished(10));
    assert.equal(s.requests.sent, 10);
    assert.deepEqual(shadow.received.map((r) => new URL(r.url).pathname), [
      "/n/10",
      "/n/20",
      "/n/30",
      "/n/40",
      "/n/50",
      "/n/60",
      "/n/70",
      "/n/80",
      "/n/90",
      "/n/100",
    ]);

    await gw.reload(config(50));
    for (let i = 1; i <= 10; i++) await (await fetch(`${gw.url}/m/${i}`)).arrayBuffer();
    const after = await pollMirror(gw.adminUrl!, "api", finished(15));
    assert.equal(after.percent, 50);
    assert.equal(after.requests.sent, 15, "10 before the reload, then every 2nd of 10");
  } finally {
    await gw.close();
    await shadow.close();
    await primary.close();
  }
});
