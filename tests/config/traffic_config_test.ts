/**
 * Validation of a route's traffic settings (`split`, `canary`, `color`): every problem with its
 * exact path and a fix, and the normalized form of a valid one.
 */
import assert from "node:assert/strict";
import type { ConfigIssue, NormalizedConfig } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

type Route = Record<string, unknown>;

/** Three upstreams and one route built from `route`. */
function withRoute(route: Route, extra: Record<string, unknown> = {}) {
  return {
    upstreams: {
      v1: { targets: ["http://127.0.0.1:3001"] },
      v2: { targets: ["http://127.0.0.1:3002"] },
      shadow: { targets: ["http://127.0.0.1:3003"] },
    },
    routes: [{ name: "checkout", match: { path: "/checkout/*" }, ...route }],
    ...extra,
  };
}

/** A valid jwt policy's options (its tests cover them; here it only has to be present). */
const JWT_OPTIONS = {
  issuer: "https://issuer.test",
  audiences: ["api"],
  jwksUri: "https://issuer.test/jwks.json",
};

const SPLIT = { targets: [{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }] };

function errorsOf(input: unknown): ConfigIssue[] {
  const result = validateConfig(input);
  assert.equal(result.ok, false, "expected the config to be rejected");
  return result.ok ? [] : result.errors;
}

function valid(input: unknown): { config: NormalizedConfig; warnings: ConfigIssue[] } {
  const result = validateConfig(input);
  if (!result.ok) assert.fail(`expected a valid config, got:\n${JSON.stringify(result.errors)}`);
  return { config: result.config, warnings: result.warnings };
}

/** Exactly one error, at `path`, whose message contains every fragment. */
function assertOneError(input: unknown, path: string, ...fragments: string[]) {
  const errors = errorsOf(input);
  assert.deepEqual(errors.map((e) => e.path), [path], JSON.stringify(errors));
  for (const f of fragments) assert.ok(errors[0].message.includes(f), errors[0].message);
}

Deno.test("a split, canary rules and a color normalize with lower-case header names", () => {
  const { config, warnings } = valid(withRoute({
    split: { ...SPLIT, sticky: { header: "X-User-Id" } },
    canary: [
      { when: { header: { "X-Env": "canary" } }, upstream: "v2", color: "canary" },
      { when: { cookie: { Beta: { regex: "^1$" } } }, upstream: "v2" },
    ],
    color: { header: "X-Color" },
  }));
  assert.deepEqual(warnings, []);
  const route = config.routes[0];
  assert.deepEqual(route.split, {
    targets: [{ upstream: "v1", weight: 95 }, { upstream: "v2", weight: 5 }],
    sticky: { header: "x-user-id" },
  });
  assert.deepEqual(route.canary, [
    { when: { header: { "x-env": "canary" } }, upstream: "v2", color: "canary" },
    { when: { cookie: { Beta: { regex: "^1$" } } }, upstream: "v2", color: null },
  ]);
  assert.deepEqual(route.color, { header: "x-color" });
  assert.equal("upstream" in route, false);
});

Deno.test("a plain route gains no traffic keys (existing normalized output is unchanged)", () => {
  const route = valid(withRoute({ upstream: "v1" })).config.routes[0];
  for (const key of ["split", "canary", "color"]) assert.equal(key in route, false, key);
  // An empty rule list is no rules at all.
  assert.equal(
    "canary" in valid(withRoute({ upstream: "v1", canary: [] })).config.routes[0],
    false,
  );
});

Deno.test("a route has exactly one of upstream, split and redirect", () => {
  assertOneError(
    withRoute({ upstream: "v1", split: SPLIT }),
    "routes[0]",
    '"split" and "upstream"',
  );
  assertOneError(
    withRoute({ redirect: { to: "/x" }, split: SPLIT }),
    "routes[0]",
    'exactly one of "upstream"',
    '"split" and "redirect"',
  );
  assertOneError(withRoute({}), "routes[0]", "found neither");
});

Deno.test("split targets: known upstreams (with a suggestion), positive weights, each once, at least one", () => {
  assertOneError(
    withRoute({
      split: { targets: [{ upstream: "v1", weight: 95 }, { upstream: "v3", weight: 5 }] },
    }),
    "routes[0].split.targets[1].upstream",
    'no upstream named "v3"',
    'did you mean "v1"?',
  );
  for (const weight of [0, -5, Number.POSITIVE_INFINITY, "5"]) {
    const errors = errorsOf(
      withRoute({
        split: { targets: [{ upstream: "v1", weight: 1 }, { upstream: "v2", weight }] },
      }),
    );
    assert.deepEqual(
      errors.map((e) => e.path),
      ["routes[0].split.targets[1].weight"],
      String(weight),
    );
    assert.match(errors[0].message, /positive number/);
  }
  assertOneError(
    withRoute({
      split: { targets: [{ upstream: "v1", weight: 1 }, { upstream: "v1", weight: 2 }] },
    }),
    "routes[0].split.targets[1].upstream",
    'upstream "v1" is already targets[0]',
  );
  assertOneError(withRoute({ split: { targets: [] } }), "routes[0].split.targets", "at least one");
  assertOneError(
    withRoute({ split: { targets: [{ upstream: "v1" }] } }),
    "routes[0].split.targets[0].weight",
    "missing",
  );
  // One target is allowed: rolling a canary back by deleting its line keeps the route valid.
  valid(withRoute({ split: { targets: [{ upstream: "v1", weight: 1 }] } }));
});

Deno.test("a sticky key is exactly one of header, cookie, claim and clientIp", () => {
  assertOneError(
    withRoute({ split: { ...SPLIT, sticky: { header: "x-user", cookie: "uid" } } }),
    "routes[0].split.sticky",
    'expected exactly one of "header", "cookie", "claim" or "clientIp", got "header" and "cookie"',
  );
  assertOneError(
    withRoute({ split: { ...SPLIT, sticky: {} } }),
    "routes[0].split.sticky",
    "got none",
  );
  assertOneError(
    withRoute({ split: { ...SPLIT, sticky: { header: "bad header" } } }),
    "routes[0].split.sticky.header",
    "header name",
  );
  assertOneError(
    withRoute({ split: { ...SPLIT, sticky: { clientIP: true } } }),
    "routes[0].split.sticky.clientIP",
    'did you mean "clientIp"?',
  );
});

Deno.test("canary `when` has exactly one condition kind, with at least one condition", () => {
  assertOneError(
    withRoute({
      upstream: "v1",
      canary: [{ when: { header: { "x-env": "canary" }, cookie: { beta: "1" } }, upstream: "v2" }],
    }),
    "routes[0].canary[0].when",
    'expected exactly one of "header", "cookie", "query" or "claim", got "header" and "cookie"',
  );
  assertOneError(
    withRoute({ upstream: "v1", canary: [{ when: {}, upstream: "v2" }] }),
    "routes[0].canary[0].when",
    "got none",
  );
  assertOneError(
    withRoute({ upstream: "v1", canary: [{ when: { claim: {} }, upstream: "v2" }] }),
    "routes[0].canary[0].when.claim",
    "at least one claim condition",
  );
  assertOneError(
    withRoute({
      upstream: "v1",
      canary: [{ when: { headers: { "x-env": "c" } }, upstream: "v2" }],
    }),
    "routes[0].canary[0].when.headers",
    'did you mean "header"?',
  );
});

Deno.test("canary regexes must compile, and upstream names must exist", () => {
  assertOneError(
    withRoute({
      upstream: "v1",
      canary: [{ when: { header: { "x-build": { regex: "rc-(" } } }, upstream: "v2" }],
    }),
    `routes[0].canary[0].when.header["x-build"].regex`,
    "not a valid regular expression",
  );
  assertOneError(
    withRoute({ upstream: "v1", canary: [{ when: { query: { p: "1" } }, upstream: "V2" }] }),
    "routes[0].canary[0].upstream",
    'no upstream named "V2"',
    'did you mean "v2"?',
  );
});

Deno.test("canary rules need a forwarding default and a color header for their colors", () => {
  assertOneError(
    withRoute({
      redirect: { to: "/elsewhere" },
      canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2" }],
    }),
    "routes[0].canary",
    "answers with a redirect",
  );
  assertOneError(
    withRoute({
      upstream: "v1",
      canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2", color: "canary" }],
    }),
    "routes[0].canary[0].color",
    'add color: { header: "x-color" }',
  );
  assertOneError(
    withRoute({
      upstream: "v1",
      canary: [{ when: { header: { "x-env": "canary" } }, upstream: "v2", color: "two\nlines" }],
      color: { header: "x-color" },
    }),
    "routes[0].canary[0].color",
    "visible ASCII",
  );
  assertOneError(
    withRoute({ upstream: "v1", color: { header: "Host" } }),
    "routes[0].color.header",
    "the gateway sets itself",
  );
});

Deno.test("claim rules and claim stickiness without a jwt policy are warnings, not errors", () => {
  const { warnings } = valid(withRoute({
    split: { ...SPLIT, sticky: { claim: "sub" } },
    canary: [{ when: { claim: { tier: "beta" } }, upstream: "v2" }],
  }));
  assert.deepEqual(warnings.map((w) => [w.path, w.severity]), [
    ["routes[0].canary[0].when.claim", "warning"],
    ["routes[0].split.sticky.claim", "warning"],
  ]);
  assert.match(warnings[0].message, /no jwt policy/);
  const withJwt = valid(withRoute({
    use: [{ kind: "jwt", options: JWT_OPTIONS }],
    split: { ...SPLIT, sticky: { claim: "sub" } },
    canary: [{ when: { claim: { tier: "beta" } }, upstream: "v2" }],
  }));
  assert.deepEqual(withJwt.warnings, []);
});

Deno.test("a color header that no rule ever sets is a warning", () => {
  const { warnings } = valid(withRoute({ upstream: "v1", color: { header: "x-color" } }));
  assert.deepEqual(warnings.map((w) => w.path), ["routes[0].color"]);
  assert.match(warnings[0].message, /no canary rule of this route sets a color/);
});
