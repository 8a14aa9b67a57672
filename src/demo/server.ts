/**
 * The built-in demo upstream, so the showcase config answers on a fresh machine. It shows what a
 * backend sees through Ferry: echoed requests, slow answers, SSE, WebSocket and gzip.
 */

const encoder = new TextEncoder();

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The demo app's handler. */
export async function demoHandler(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  if (path === "/ws" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(typeof e.data === "string" ? `echo: ${e.data}` : e.data);
    return response;
  }
  if (path === "/sse") {
    const count = Math.min(Number(url.searchParams.get("count") ?? 5), 100);
    let timer: ReturnType<typeof setInterval> | undefined;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        timer = setInterval(() => {
          controller.enqueue(encoder.encode(`id: ${sent}\ndata: tick ${sent}\n\n`));
          if (++sent >= count) {
            clearInterval(timer);
            controller.close();
          }
        }, 200);
      },
      cancel: () => clearInterval(timer),
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  }
  if (path === "/slow") {
    const ms = Math.min(Number(url.searchParams.get("ms") ?? 1000), 30_000);
    await new Promise((r) => setTimeout(r, ms));
    return json({ slept: ms });
  }
  if (path === "/gzip") {
    const stream = new Blob([JSON.stringify({ compressed: true, filler: "ferry ".repeat(200) })])
      .stream().pipeThrough(new CompressionStream("gzip"));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    return new Response(bytes, {
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    });
  }
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) {
    const code = Number(status[1]);
    return code >= 200 && code <= 599 ? json({ status: code }, code) : json({ error: "bad" }, 400);
  }
  const user = /^\/users\/(\d+)$/.exec(path);
  if (user) return json({ id: Number(user[1]), name: `user ${user[1]}` });
  // Everything else echoes what the backend received, which is the point of the demo.
  const body = req.body ? await req.text() : undefined;
  return json({
    service: "ferry-demo",
    method: req.method,
    path,
    query: url.search,
    headers: Object.fromEntries(req.headers),
    body,
  });
}

/** Starts the demo upstream. */
export function startDemoServer(hostname: string, port: number): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname, port, onListen() {} }, demoHandler);
}
