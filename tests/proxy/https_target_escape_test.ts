/**
 * A policy-set `upstreamPath` that is not `/`-rooted must never take an https:// request to
 * another host. Any client that builds a URL from `origin + path` falls for it:
 * `https://127.0.0.1:P` + `@127.0.0.1:Q/x` parses as a URL of port Q with the configured origin
 * as Basic credentials. Ferry's client writes the path on the wire and refuses one that is not
 * origin-form: a 502, nothing sent anywhere else.
 */
import assert from "node:assert/strict";
import { custom } from "../../mod.ts";
import { startRawUpstream, startTestGateway } from "../helpers/gateway.ts";

Deno.test("a policy path that is not /-rooted reaches no host from an https:// upstream", async () => {
  // Neither speaks TLS: a connection to the other one at all shows where the gateway went.
  const configured = startRawUpstream(async (socket) => void await socket.readBytes(1));
  const other = startRawUpstream(async (socket) => void await socket.readBytes(1));
  const dir = await Deno.makeTempDir({ prefix: "ferry-escape-" });
  const module = `${dir}/escape.ts`;
  await Deno.writeTextFile(
    module,
    `export default () => async (c, next) => {\n` +
      `  c.var.proxy.upstreamPath = "@127.0.0.1:${other.port}/x";\n  await next();\n};\n`,
  );
  const gw = await startTestGateway({
    upstreams: { api: { targets: [`https://127.0.0.1:${configured.port}`] } },
    routes: [{ upstream: "api", use: [custom({ module })] }],
  }, { admin: false });
  try {
    const res = await fetch(`${gw.url}/anything`);
    await res.body?.cancel();
    assert.equal(res.status, 502);
    assert.equal(other.accepted, 0);
  } finally {
    await gw.close();
    await configured.close();
    await other.close();
    await Deno.remove(dir, { recursive: true });
  }
});
