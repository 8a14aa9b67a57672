/**
 * Config regexes run against request input on the gateway's one thread: a pattern that can
 * backtrack catastrophically (`(a+)+$`, `(a|aa)*`) must be refused when the config is loaded,
 * wherever a regex is written. No test here runs such a pattern against an input.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.ts";
import type { ConfigIssue } from "../../src/config/normalized.ts";
import { validateConfig } from "../../src/config/validate.ts";

const NESTED = 'nested quantifier "(a+)+" can take exponential time on crafted input; ' +
  "rewrite it without a quantified group that contains a quantifier";

/** A config with one route built from `route`. */
function withRoute(route: Record<string, unknown>) {
  return {
    upstreams: {
      v1: { targets: ["http://127.0.0.1:3001"] },
      v2: { targets: ["http://127.0.0.1:3002"] },
    },
    routes: [{ name: "users", upstream: "v1", ...route }],
  };
}

function errorsOf(input: unknown): ConfigIssue[] {
  const result = validateConfig(input);
  assert.equal(result.ok, false, "expected the config to be refused");
  return result.ok ? [] : result.errors;
}

/** Exactly one error, at `path`, whose message contains every fragment. */
function assertOneError(input: unknown, path: string, ...fragments: string[]) {
  const errors = errorsOf(input);
  assert.deepEqual(errors.map((e) => e.path), [path], JSON.stringify(errors));
  for (const f of fragments) assert.ok(errors[0].message.includes(f), errors[0].message);
}

Deno.test("a YAML config whose header condition nests quantifiers is refused at load", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ferry-regex-" });
  try {
    const path = join(dir, "routes.yaml");
    await Deno.writeTextFile(
      path,
      `upstreams:
  users:
    targets: [http://127.0.0.1:3000]
routes:
  - name: users
    upstream: users
    match:
      headers:
        x-id: { regex: "(a+)+$" }
`,
    );
    const result = await loadConfigFile(path);
    assert.equal(result.ok, false, "a catastrophic regex was accepted");
    if (result.ok) return;
    assert.deepEqual(
      result.errors.map((e) => [e.path, e.message]),
      [['routes[0].match.headers["x-id"].regex', NESTED]],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("query, cookie and claim regexes are checked too", () => {
  assertOneError(
    withRoute({ match: { query: { q: { regex: "^(a|aa)*b" } } } }),
    "routes[0].match.query.q.regex",
    'repeated alternation "(a|aa)*"',
    "can take exponential time on crafted input",
  );
  assertOneError(
    withRoute({
      canary: [{ when: { claim: { sub: { regex: "(\\w+\\s?)*$" } } }, upstream: "v2" }],
    }),
    "routes[0].canary[0].when.claim.sub.regex",
    'nested quantifier "(\\\\w+\\\\s?)*"',
  );
  assertOneError(
    withRoute({ canary: [{ when: { cookie: { beta: { regex: "^(a+)+$" } } }, upstream: "v2" }] }),
    "routes[0].canary[0].when.cookie.beta.regex",
    NESTED,
  );
});

Deno.test("a path param constraint that nests quantifiers is refused", () => {
  assertOneError(
    withRoute({ match: { path: "/users/:id{(a+)+}" } }),
    "routes[0].match.path",
    'constraint {(a+)+} of ":id" in "/users/:id{(a+)+}"',
    NESTED,
  );
});

Deno.test("a rewrite pattern that nests quantifiers is refused", () => {
  assertOneError(
    withRoute({
      use: [{ kind: "rewrite", options: { regex: { pattern: "^/(a+)+$", replacement: "/" } } }],
    }),
    "routes[0].use[0].options.regex.pattern",
    NESTED,
  );
  assertOneError(
    withRoute({
      use: [{ kind: "rewrite", options: { regex: { pattern: "^/(", replacement: "/" } } }],
    }),
    "routes[0].use[0].options.regex.pattern",
    "must be a valid regular expression",
  );
});

Deno.test("ordinary regexes still load everywhere a regex is written", () => {
  const result = validateConfig(withRoute({
    match: {
      path: "/users/:id{[0-9]+}/:ip{(\\d{1,3}\\.){3}\\d{1,3}}",
      headers: { authorization: { regex: "^Bearer [A-Za-z0-9._-]+$" } },
      query: { v: { regex: "^(v1|v2)$" } },
    },
    canary: [{ when: { header: { "x-build": { regex: "^rc-[a-z]{2,8}$" } } }, upstream: "v2" }],
    use: [{
      kind: "rewrite",
      options: { regex: { pattern: "^/api/(users|orders)/([0-9]+)$", replacement: "/$1/$2" } },
    }],
  }));
  if (!result.ok) assert.fail(JSON.stringify(result.errors));
});
