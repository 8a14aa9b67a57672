/**
 * The mirroring state kept across reloads is forgotten for routes that no longer mirror, so a
 * config whose routes come and go does not grow it without end; a route with mirrors still in
 * flight keeps it until they finish, and a returning route counts on.
 */
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { configHash } from "../../src/config/hash.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { normalize } from "../../src/server/gateway.ts";
import { GatewayCore } from "../../src/server/gateway_core.ts";
import { MirrorRegistry } from "../../src/traffic/mirror_registry.ts";

Deno.test("mirror registry: routes left out are forgotten once no mirror of theirs is in flight", () => {
  const registry = new MirrorRegistry(new Registry(), new MemoryLogger());
  registry.route("kept").count("sent");
  const busy = registry.route("busy");
  assert.ok(busy.tryAcquire(4));
  registry.route("gone").count("sent");

  registry.retainOnly(new Set(["kept"]));
  assert.equal(registry.size, 2, "'gone' is forgotten, 'busy' still has a mirror in flight");
  assert.equal(registry.route("busy"), busy);

  busy.release();
  registry.retainOnly(new Set(["kept"]));
  assert.equal(registry.size, 1);
  // A route that returns starts with no mismatches but its counters carry on.
  assert.equal(registry.route("gone").counts().sent, 1);
});

function mirroring(names: string[]) {
  return normalize({
    upstreams: {
      api: { targets: ["http://127.0.0.1:9"] },
      shadow: { targets: ["http://127.0.0.1:9"] },
    },
    routes: names.map((name) => ({
      name,
      match: { path: `/${name}/*` },
      upstream: "api",
      mirror: { upstream: "shadow" },
    })),
  });
}

Deno.test("mirror registry: a reload drops the state of routes it removed", async () => {
  const core = new GatewayCore(new MemoryLogger(), () => undefined);
  try {
    for (const names of [["one", "two"], ["two", "three"], ["four"]]) {
      const config = mirroring(names);
      await core.apply(config, await configHash(config), "test");
      // Every served mirroring route has its state (a snapshot takes it when built), and no
      // other route does.
      assert.equal(core.mirrors.size, names.length, `after serving ${names.join(", ")}`);
    }
  } finally {
    await core.close();
  }
});
