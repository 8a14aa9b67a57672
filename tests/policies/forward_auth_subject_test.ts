/**
 * `forwardAuth`'s `subjectHeader` names who the caller is. A client that sent that header
 * itself (`x-user-id: admin`) used to have its value reach the upstream whenever the header was
 * not also listed in `responseHeaders`, while the access log showed the auth service's subject.
 * Through a real auth service, gateway and echo upstream on 127.0.0.1.
 */
import assert from "node:assert/strict";
import type { ForwardAuthOptions } from "../../src/policies/forward_auth.ts";
import { forwardAuthUpstreamHeaders } from "./forward_auth_fixture.ts";

/** Upstream headers for one request sent as mallory claiming to be admin. */
function upstreamHeadersFor(options: Omit<ForwardAuthOptions, "url">) {
  return forwardAuthUpstreamHeaders(options, { "x-user-id": "admin", "x-other": "kept" });
}

Deno.test("forwardAuth: a client-sent copy of subjectHeader never reaches the upstream", async () => {
  const headers = await upstreamHeadersFor({ subjectHeader: "x-user-id" });
  assert.equal(headers["x-user-id"], undefined, "the client's claim to be admin is dropped");
  assert.equal(headers["x-other"], "kept", "unrelated headers pass");
});

Deno.test("forwardAuth: subjectHeader also in responseHeaders carries the auth service's value", async () => {
  const headers = await upstreamHeadersFor({
    subjectHeader: "X-User-Id",
    responseHeaders: ["x-user-id"],
  });
  assert.equal(headers["x-user-id"], "bob");
});
