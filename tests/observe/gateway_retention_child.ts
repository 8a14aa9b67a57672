/**
 * For metrics_retention_test.ts: creates and closes gateways, then reports on stdout how many
 * of their metric registries the process still holds after full garbage collections. Run with
 * `--v8-flags=--expose-gc`.
 */
import { createGateway } from "../../src/server/gateway.ts";

const ROUNDS = 10;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

/** One gateway, created and closed; only a weak reference to its registry leaves this frame. */
async function createAndClose(): Promise<WeakRef<object>> {
  const gw = await createGateway({
    upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
    routes: [{ name: "r", upstream: "api" }],
  });
  const registry = new WeakRef(gw.metrics.registry);
  await gw.close();
  return registry;
}

const registries: WeakRef<object>[] = [];
for (let i = 0; i < ROUNDS; i++) registries.push(await createAndClose());
// Collections run between macrotasks too: finalizers and V8's weak-ref clearing need a turn.
for (let i = 0; i < 5; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 0));
}
console.log(JSON.stringify({ created: ROUNDS, alive: registries.filter((r) => r.deref()).length }));
