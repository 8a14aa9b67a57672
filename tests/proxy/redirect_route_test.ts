/**
 * Route-level redirects are answered by the gateway: `:param` and `{path}` are filled in, the
 * query is appended unless `{query}` places it, and the upstream is never called.
 */
import assert from "node:assert/strict";
import { startEchoUpstream, startTestGateway } from "../helpers/gateway.ts";

/** Runs `fn` against a gateway with the redirect routes below and a catch-all after them. */
async function withRedirects(
  fn: (get: (path: string) => Promise<Response>) => Promise<void>,
): Promise<void> {
  const upstream = startEchoUpstream();
  const gw = await startTestGateway({
    upstreams: { api: { targets: [upstream.url] } },
    routes: [
      { match: { path: "/v1/users/:id" }, redirect: { to: "/v2/users/:id" } },
      { match: { path: "/old/*" }, redirect: { to: "https://new.example.com{path}", status: 301 } },
      { match: { path: "/find" }, redirect: { to: "/search?{query}&from=old", status: 302 } },
      { match: { path: "/tagged" }, redirect: { to: "/landing?src=old", status: 307 } },
      { upstream: "api" },
    ],
  });
  try {
    await fn((path) => fetch(`${gw.url}${path}`, { redirect: "manual" }));
    // Every request above matched a redirect route: none may have been forwarded.
    assert.deepEqual(upstream.received, []);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

async function redirect(res: Response): Promise<{ status: number; location: string | null }> {
  await res.body?.cancel();
  return { status: res.status, location: res.headers.get("location") };
}

Deno.test("a :param is filled from the path and the query is appended (default 308)", async () => {
  await withRedirects(async (get) => {
    assert.deepEqual(await redirect(await get("/v1/users/7?x=1&y=2")), {
      status: 308,
      location: "/v2/users/7?x=1&y=2",
    });
  });
});

Deno.test("no query on the request adds no '?' to the Location", async () => {
  await withRedirects(async (get) => {
    assert.deepEqual(await redirect(await get("/v1/users/42")), {
      status: 308,
      location: "/v2/users/42",
    });
  });
});

Deno.test("{path} is the full request path, with the query appended", async () => {
  await withRedirects(async (get) => {
    assert.deepEqual(await redirect(await get("/old/a/b?q=1")), {
      status: 301,
      location: "https://new.example.com/old/a/b?q=1",
    });
  });
});

Deno.test("{query} places the query once, and it is not appended again", async () => {
  await withRedirects(async (get) => {
    assert.deepEqual(await redirect(await get("/find?q=deno")), {
      status: 302,
      location: "/search?q=deno&from=old",
    });
  });
});

Deno.test("a target with its own query gets the request's query after '&'", async () => {
  await withRedirects(async (get) => {
    assert.deepEqual(await redirect(await get("/tagged?utm=x")), {
      status: 307,
      location: "/landing?src=old&utm=x",
    });
  });
});

Deno.test("a redirect carries the request id", async () => {
  await withRedirects(async (get) => {
    const res = await get("/v1/users/1");
    await res.body?.cancel();
    assert.ok((res.headers.get("x-request-id") ?? "").length > 0);
  });
});
