/**
 * Ferry's default config and showcase. `deno task start` serves it on 127.0.0.1:8080 (admin on
 * 127.0.0.1:9901) with the built-in demo upstream on 127.0.0.1:3000, so every example in the
 * README answers on a fresh machine. Try `deno task explain GET /api/users/7`.
 */
import { defineConfig, headers, rewrite } from "./mod.ts";

export default defineConfig({
  listen: { hostname: "127.0.0.1", port: 8080 },
  admin: { hostname: "127.0.0.1", port: 9901 },
  // The demo upstream echoes what it receives, streams SSE, speaks WebSocket and gzip.
  demo: { listen: { hostname: "127.0.0.1", port: 3000 } },

  upstreams: {
    demo: {
      targets: ["http://127.0.0.1:3000"],
      timeouts: { connect: "2s", total: "15s" },
      // Probed every 5 s; outlier detection, the circuit breaker and retries of idempotent
      // requests are on by default (see the README's "Upstream resilience").
      healthCheck: { path: "/healthz", interval: "5s" },
    },
  },

  // Named policies can be shared by routes; a typo in a route's `use` is a type error.
  policies: {
    stamped: headers({
      request: { set: { "x-served-by": "ferry" } },
      response: { set: { "x-gateway": "ferry" }, remove: ["server"] },
    }),
  },

  routes: [
    {
      // Path params with a regex constraint; only GET (and HEAD).
      name: "user-by-id",
      match: { path: "/api/users/:id{[0-9]+}", method: "GET" },
      upstream: "demo",
      use: ["stamped", rewrite({ stripPrefix: "/api" })],
    },
    {
      // Header-based canary: requests with `x-env: canary` are tagged for the backend.
      name: "api-canary",
      match: { path: "/api/*", headers: { "x-env": "canary" } },
      upstream: "demo",
      use: [
        headers({ request: { set: { "x-canary": "true" } } }),
        rewrite({ stripPrefix: "/api", addPrefix: "/echo" }),
      ],
    },
    {
      name: "api",
      match: { path: "/api/*" },
      upstream: "demo",
      use: ["stamped", rewrite({ stripPrefix: "/api", addPrefix: "/echo" })],
    },
    {
      // A route-level redirect, answered by the gateway itself.
      name: "legacy-users",
      match: { path: "/v1/users/:id" },
      redirect: { to: "/api/users/:id", status: 308 },
    },
    {
      // Server-sent events stream through unbuffered.
      name: "events",
      match: { path: "/events" },
      upstream: "demo",
      use: [rewrite({ regex: { pattern: "^/events$", replacement: "/sse" } })],
    },
    { name: "websocket", match: { path: "/ws" }, upstream: "demo" },
    { name: "gzip", match: { path: "/gzip" }, upstream: "demo" },
    { name: "fallback", upstream: "demo" },
  ],
});
