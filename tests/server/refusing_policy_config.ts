/**
 * A config whose policy can refuse its options while the snapshot is built, after validation
 * passed: for the tests of config errors that only building the snapshot finds.
 */

/** A custom policy module whose factory throws (a missing secret) when given `{ refuse: true }`. */
const REFUSING_POLICY = "./tests/fixtures/policies/refuses_options.ts";

/**
 * One route, "shop", to `upstream`, whose only policy refuses its options when `refuse` is set;
 * `extra` adds top-level config (an access log, reload settings, ...).
 */
export function refusingPolicyConfig(
  upstream: string,
  refuse: boolean,
  extra: Record<string, unknown> = {},
) {
  return {
    upstreams: { api: { targets: [upstream] } },
    routes: [{
      name: "shop",
      upstream: "api",
      use: [{ kind: "custom", options: { module: REFUSING_POLICY, options: { refuse } } }],
    }],
    ...extra,
  };
}
