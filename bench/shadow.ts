/**
 * A slow shadow upstream for the mirroring benchmark: answers every request after a delay
 * (default 2000 ms), so mirrored requests pile up against the mirror's concurrency bound.
 *
 *   deno run --allow-net bench/shadow.ts 28200 2000
 */
const port = Number(Deno.args[0] ?? "28200");
const delayMs = Number(Deno.args[1] ?? "2000");
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  await req.arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  return new Response("shadow\n");
});
