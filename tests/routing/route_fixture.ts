/**
 * Routing tests' shared setup: a gateway with "guarded" routes (they redirect, standing in for
 * routes with auth policies or another upstream) in front of a catch-all upstream that answers
 * 200 "ok" and keeps every request head it got, so a test sees both which route took a request and
 * what path reached the upstream.
 */
import {
  portOf,
  rawExchange,
  type RawUpstream,
  startRawUpstream,
  startTestGateway,
} from "../helpers/gateway.ts";

/** A route that takes `match` and redirects to `https://<name>.example/`. */
export function guarded(name: string, match: string | Record<string, unknown>) {
  return {
    name,
    match: typeof match === "string" ? { path: match } : match,
    redirect: { to: `https://${name}.example/`, status: 302 },
  };
}

/** `routes` in front of the upstream `pub`; `get` sends one raw GET over its own connection. */
export async function routedGateway(routes: Record<string, unknown>[]) {
  const upstream: RawUpstream = startRawUpstream(async (socket) => {
    if (await socket.readHead() === null) return;
    await socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  });
  const gw = await startTestGateway({ upstreams: { pub: { targets: [upstream.url] } }, routes }, {
    admin: false,
  });
  const port = portOf(gw);
  return {
    gw,
    upstream,
    get: (target: string, host = "x") =>
      rawExchange(port, `GET ${target} HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`),
    async close() {
      await gw.close();
      await upstream.close();
    },
  };
}
