/**
 * The peers.sh baseline (`Deno.serve` + `fetch`, no features), reading its ports from the
 * environment so bench/side_by_side.sh can run it next to the other probes and Ferry.
 */
const port = Number(Deno.env.get("PROXY_PORT") ?? 28090);
const backend = `http://127.0.0.1:${Deno.env.get("BACKEND_PORT") ?? 28100}`;

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
  const url = new URL(req.url);
  return fetch(backend + url.pathname + url.search, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    redirect: "manual",
  });
});
