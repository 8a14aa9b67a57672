/**
 * The shared conformance test every policy kind runs (Hono's router tests are the model): one
 * function, run against every entry of the registry, with a per-kind sample of valid options
 * and one options object with an unknown key. A new kind without a sample fails here, so no
 * policy ships without passing the same checks.
 *
 * Behaviour specific to a policy (what `headers` sets, how `rewrite` rewrites) is tested in that
 * policy's own file; this only checks the contract.
 */
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/validate.ts";
import type { PolicyDefinition } from "../../src/policies/policy.ts";
import { policyDefinitions } from "../../src/policies/registry.ts";
import { SharedState } from "../../src/policies/shared_state.ts";
import { MemoryLogger } from "../../src/observe/logger.ts";
import { Registry } from "prom-client";
import passThrough from "../fixtures/policies/pass_through.ts";
import type { Sample } from "./samples/sample.ts";
import { sample as jwtSample } from "./samples/jwt.ts";
import { sample as apikeySample } from "./samples/api_key.ts";
import { sample as basicauthSample } from "./samples/basic_auth.ts";
import { sample as forwardauthSample } from "./samples/forward_auth.ts";
import { sample as ipfilterSample } from "./samples/ip_filter.ts";

import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

const SAMPLES: Record<string, Sample> = {
  headers: {
    valid: {
      request: { set: { "x-conformance": "1" }, remove: ["x-drop"] },
      response: { add: { "x-seen": "yes" } },
    },
    invalid: { reqest: { set: { "x-conformance": "1" } } },
    unknownKey: "reqest",
  },
  rewrite: {
    valid: { stripPrefix: "/conformance", addPrefix: "/echo" },
    invalid: { stripprefix: "/conformance" },
    unknownKey: "stripprefix",
  },
  custom: {
    // Inline configs resolve modules from the working folder: `deno task test` runs at the root.
    valid: { module: "./tests/fixtures/policies/pass_through.ts", options: { any: "thing" } },
    modules: { "./tests/fixtures/policies/pass_through.ts": passThrough },
    invalid: { module: "./tests/fixtures/policies/pass_through.ts", option: {} },
    unknownKey: "option",
  },
  fault: {
    // Every request carrying `x-fault` would fail; the plain GET carries none, so it passes.
    valid: { abort: { status: 503, percent: 100 }, when: { header: "x-fault" } },
    invalid: { abort: { status: 503, percent: 100 }, dealy: { duration: "1ms", percent: 100 } },
    unknownKey: "dealy",
  },
  // Kinds whose samples live in `samples/`, one file each, so each policy owns its own.
  jwt: jwtSample,
  apiKey: apikeySample,
  basicAuth: basicauthSample,
  forwardAuth: forwardauthSample,
  ipFilter: ipfilterSample,
};

/** The contract, run once per kind. */
async function conforms(
  // deno-lint-ignore no-explicit-any
  definition: PolicyDefinition<string, any>,
  sample: Sample,
  t: Deno.TestContext,
) {
  const { kind } = definition;

  await t.step("the schema accepts the valid sample", () => {
    const parsed = definition.schema.safeParse(sample.valid);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  });

  await t.step("the schema rejects an unknown key, and validation names its path", () => {
    const parsed = definition.schema.safeParse(sample.invalid);
    assert.equal(parsed.success, false);
    const keys = parsed.error!.issues.flatMap((i) =>
      i.code === "unrecognized_keys" ? [...i.path, ...i.keys] : []
    );
    assert.ok(keys.includes(sample.unknownKey), JSON.stringify(parsed.error!.issues));

    // Through the config as a user writes it, both as a named and as an inline policy.
    const result = validateConfig({
      upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
      policies: { p: { kind, options: sample.invalid } },
      routes: [{ upstream: "api", use: ["p", { kind, options: sample.invalid }] }],
    });
    assert.equal(result.ok, false);
    const paths = result.ok ? [] : result.errors.map((e) => e.path);
    assert.ok(paths.includes(`policies.p.options.${sample.unknownKey}`), paths.join("\n"));
    assert.ok(paths.includes(`routes[0].use[1].options.${sample.unknownKey}`), paths.join("\n"));
  });

  await t.step("create() builds a middleware once from validated options", async () => {
    const options = definition.schema.parse(sample.valid);
    const shared = new SharedState();
    const middleware = definition.create(options, {
      env: (name) => sample.env?.[name],
      // The gateway preloads custom modules before it builds policies; so does this test.
      customModule: (specifier) => sample.modules![specifier],
      shared: (key, create) => shared.get(key, create),
      metrics: new Registry(),
      logger: new MemoryLogger(),
    });
    await shared.close();
    assert.equal(typeof middleware, "function");
    assert.equal(middleware.length, 2, "a Hono-style (c, next) middleware");
  });

  await t.step("in a real gateway route, a plain GET goes through to the upstream", async () => {
    const upstream = startEchoUpstream();
    const gw = await startTestGateway({
      upstreams: { api: { targets: [upstream.url] } },
      policies: { p: { kind, options: sample.valid } },
      routes: [{ name: "conformance", upstream: "api", use: ["p"] }],
    }, { env: sample.env });
    try {
      const res = await fetch(`${gw.url}/conformance/ping`, { headers: sample.requestHeaders });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
      assert.equal(upstream.received.length, 1, "the upstream got the request");
      assert.equal(gw.logger.lines.filter((l) => l.level === "error").length, 0);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
}

Deno.test("every registered policy kind has a conformance sample", () => {
  const missing = [...policyDefinitions.keys()].filter((kind) => !(kind in SAMPLES));
  assert.deepEqual(missing, [], `add samples to ${import.meta.url} for: ${missing.join(", ")}`);
  assert.ok(policyDefinitions.size > 0);
});

for (const [kind, definition] of policyDefinitions) {
  Deno.test({
    name: `policy "${kind}" conforms to the policy contract`,
    ignore: !(kind in SAMPLES),
    fn: (t) => conforms(definition, SAMPLES[kind], t),
  });
}
