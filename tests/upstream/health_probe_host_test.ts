/**
 * The Host header of active health probes, through the real gateway and a real upstream that
 * routes by virtual host (as an nginx `server_name` or an ingress does). An upstream whose
 * `host` option names the vhost its backends serve must be probed on that vhost too: probed on
 * the target's `host:port`, the default vhost answered 404, every target failed its checks and
 * the whole upstream answered `503 no-healthy-target` while real traffic would have worked.
 */
import assert from "node:assert/strict";
import { startTestGateway, startUpstream, within } from "../helpers/gateway.ts";

/** A vhost-routing upstream: 200 for `api.internal`, 404 for any other Host. */
function vhostUpstream(probesWanted: number) {
  const probeHosts: (string | null)[] = [];
  const enough = Promise.withResolvers<void>();
  const upstream = startUpstream((req) => {
    const host = req.headers.get("host");
    if (new URL(req.url).pathname === "/healthz") {
      probeHosts.push(host);
      if (probeHosts.length >= probesWanted) enough.resolve();
    }
    return host === "api.internal"
      ? new Response("ok")
      : new Response("no such site", { status: 404 });
  });
  return { ...upstream, probeHosts, enough: enough.promise };
}

function config(url: string, extra: Record<string, unknown>) {
  return {
    upstreams: {
      api: {
        targets: [url],
        healthCheck: { path: "/healthz", interval: "10ms", jitter: "0ms", unhealthyThreshold: 1 },
        ...extra,
      },
    },
    routes: [{ upstream: "api" }],
  };
}

Deno.test("health probe: sends the upstream's configured host, and the target stays in rotation", async () => {
  // The third probe is sent only after the first two were judged.
  const upstream = vhostUpstream(3);
  const gw = await startTestGateway(config(upstream.url, { host: "api.internal" }));
  try {
    await within(upstream.enough, 5000, "the upstream was never probed three times");
    assert.deepEqual(upstream.probeHosts.slice(0, 3), Array(3).fill("api.internal"));
    assert.equal(gw.snapshot.upstreams.get("api")!.targets[0].health, "healthy");
    const res = await fetch(`${gw.url}/x`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("health probe: healthCheck.host wins over the upstream's host", async () => {
  const upstream = vhostUpstream(1);
  const gw = await startTestGateway(
    config(upstream.url, {
      host: "api.internal",
      healthCheck: { path: "/healthz", interval: "1h", host: "status.internal" },
    }),
  );
  try {
    await within(upstream.enough, 5000, "the upstream was never probed");
    assert.equal(upstream.probeHosts[0], "status.internal");
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("health probe: with host preserve or target, sends the target's host:port", async () => {
  for (const host of ["preserve", "target"]) {
    const upstream = vhostUpstream(1);
    const gw = await startTestGateway(
      config(upstream.url, { host, healthCheck: { path: "/healthz", interval: "1h" } }),
    );
    try {
      await within(upstream.enough, 5000, "the upstream was never probed");
      assert.equal(upstream.probeHosts[0], `127.0.0.1:${upstream.port}`, host);
    } finally {
      await gw.close();
      await upstream.close();
    }
  }
});
