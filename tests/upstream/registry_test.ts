/**
 * The upstream registry hands an unchanged upstream to the next snapshot as the same runtime,
 * and gives back, for closing, every runtime no serving snapshot uses any more: the ones a
 * reload replaced or removed, and the ones a build that failed created.
 */
import assert from "node:assert/strict";
import { normalize } from "../../src/server/gateway.ts";
import { UpstreamRegistry } from "../../src/upstream/registry.ts";
import type { UpstreamRuntime } from "../../src/upstream/upstream.ts";

/** The normalized `api` upstream (and `other`, when asked) with a given connect timeout. */
function upstreams(connect: string, withOther = false) {
  const config = normalize({
    upstreams: {
      api: { targets: ["http://127.0.0.1:9"], timeouts: { connect } },
      ...(withOther ? { other: { targets: ["http://127.0.0.1:9"] } } : {}),
    },
    routes: [{ upstream: "api" }],
  });
  return config.upstreams;
}

/** Obtains every upstream of `configs`, as a snapshot build does. */
function build(registry: UpstreamRegistry, configs: ReturnType<typeof upstreams>) {
  return new Map(Object.entries(configs).map(([name, c]) => [name, registry.obtain(c)]));
}

function serving(...runtimes: UpstreamRuntime[]): Set<UpstreamRuntime> {
  return new Set(runtimes);
}

Deno.test("registry: an unchanged upstream is the same runtime; a changed one is retired", () => {
  const registry = new UpstreamRegistry();
  try {
    const first = build(registry, upstreams("5s", true));
    assert.deepEqual(registry.retainOnly(serving(...first.values())), []);

    const same = build(registry, upstreams("5s", true));
    assert.equal(same.get("api"), first.get("api"));
    assert.deepEqual(registry.retainOnly(serving(...same.values())), []);

    const changed = build(registry, upstreams("3s", true));
    assert.notEqual(changed.get("api"), first.get("api"));
    assert.equal(changed.get("other"), first.get("other"));
    // The replaced runtime is handed back, to be closed after the grace period.
    assert.deepEqual(registry.retainOnly(serving(...changed.values())), [first.get("api")]);
  } finally {
    registry.closeAll();
  }
});

Deno.test("registry: a removed upstream is retired", () => {
  const registry = new UpstreamRegistry();
  try {
    const first = build(registry, upstreams("5s", true));
    registry.retainOnly(serving(...first.values()));
    const next = build(registry, upstreams("5s"));
    assert.deepEqual(registry.retainOnly(serving(...next.values())), [first.get("other")]);
    assert.deepEqual([...registry.runtimes()], [first.get("api")]);
  } finally {
    registry.closeAll();
  }
});

Deno.test("registry: after a failed build, what it created is given back and the serving runtimes stay current", () => {
  const registry = new UpstreamRegistry();
  try {
    const first = build(registry, upstreams("5s"));
    registry.retainOnly(serving(...first.values()));
    const failed = build(registry, upstreams("3s"));
    // The build failed: the gateway keeps serving `first`.
    assert.deepEqual(registry.retainOnly(serving(...first.values())), [failed.get("api")]);
    assert.deepEqual([...registry.runtimes()], [first.get("api")]);
    // The next build with the same change gets a new runtime, not the one given back.
    const retry = build(registry, upstreams("3s"));
    assert.notEqual(retry.get("api"), failed.get("api"));
    assert.notEqual(retry.get("api"), first.get("api"));
  } finally {
    registry.closeAll();
  }
});

Deno.test("registry: closeAll closes every open runtime, including one not yet retired", () => {
  const registry = new UpstreamRegistry();
  const first = build(registry, upstreams("5s"));
  registry.retainOnly(serving(...first.values()));
  const pending = build(registry, upstreams("3s"));
  registry.closeAll();
  assert.equal(first.get("api")!.closed, true);
  assert.equal(pending.get("api")!.closed, true);
});
