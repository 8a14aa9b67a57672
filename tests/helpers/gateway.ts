/**
 * Test helpers: start a gateway on ephemeral ports from a plain config object, and start real
 * upstream servers. Every helper returns something with `close()`; tests close in `finally`.
 */
import { MemoryLogger } from "../../src/observe/logger.ts";
import { type GatewayHandle, startGateway } from "../../src/server/gateway.ts";

/** Starts a gateway on 127.0.0.1 with ephemeral proxy and admin ports and an in-memory log. */
export async function startTestGateway(
  config: Record<string, unknown>,
  options: { admin?: boolean; logger?: MemoryLogger } = {},
): Promise<GatewayHandle & { logger: MemoryLogger }> {
  const logger = options.logger ?? new MemoryLogger();
  const gw = await startGateway(config, {
    listen: { hostname: "127.0.0.1", port: 0 },
    admin: options.admin === false ? false : { hostname: "127.0.0.1", port: 0 },
    logger,
    demo: false,
  });
  return Object.assign(gw, { logger });
}

/** A running upstream server. */
export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  /** Requests received, in order. */
  readonly received: { method: string; url: string; headers: Headers }[];
  close(): Promise<void>;
}

/** Starts a `Deno.serve` upstream on an ephemeral port with the given handler. */
export function startUpstream(
  handler: (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>,
): TestUpstream {
  const received: TestUpstream["received"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
    received.push({ method: req.method, url: req.url, headers: req.headers });
    return handler(req, info);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    received,
    close: () => server.shutdown(),
  };
}

/** An upstream that echoes the request it got as JSON (method, path, query, headers, body). */
export function startEchoUpstream(): TestUpstream {
  return startUpstream(async (req) => {
    const url = new URL(req.url);
    const body = req.body ? await req.text() : null;
    return Response.json({
      method: req.method,
      path: url.pathname,
      query: url.search,
      headers: Object.fromEntries(req.headers),
      body,
    });
  });
}

/** A minimal config forwarding everything to one upstream. */
export function catchAll(upstreamUrl: string, extra: Record<string, unknown> = {}) {
  return {
    upstreams: { api: { targets: [upstreamUrl] } },
    routes: [{ name: "all", upstream: "api" }],
    ...extra,
  };
}

/** A port nothing listens on (bound, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Sends raw bytes over TCP and returns everything the server wrote until it closed the
 * connection (or `maxBytes`). For requests `fetch` refuses to send.
 */
export async function rawRequest(port: number, bytes: string, maxBytes = 1 << 20): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(bytes));
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(16384);
    while (total < maxBytes) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
      total += n;
    }
    return new TextDecoder().decode(
      chunks.reduce((a, c) => {
        const out = new Uint8Array(a.length + c.length);
        out.set(a);
        out.set(c, a.length);
        return out;
      }, new Uint8Array()),
    );
  } finally {
    try {
      conn.close();
    } catch {
      // already closed by the server
    }
  }
}
