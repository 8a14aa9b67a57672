/**
 * Headers an identity policy vouches for (forwardAuth's `responseHeaders` and `subjectHeader`,
 * apiKey's `consumerHeader`) must not reach the upstream with a value the client chose, under
 * any spelling. CGI, WSGI, PHP, Rack and nginx's fastcgi read `X_User_Id` as `X-User-Id`
 * (`HTTP_X_USER_ID`), so a client's `x_user_roles: superuser` used to pass the gateway and be
 * read upstream as a role the auth service granted. Real auth service, gateway and echo
 * upstream on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { hashApiKey } from "../../src/identity/secret_hash.ts";
import { VouchedHeaders } from "../../src/identity/vouched_headers.ts";
import { apiKey } from "../../src/policies/api_key.ts";
import { type Echo, startIdentityGateway } from "./identity_harness.ts";
import { forwardAuthUpstreamHeaders } from "./forward_auth_fixture.ts";

Deno.test("forwardAuth: underscore spellings of responseHeaders sent by the client are removed", async () => {
  const headers = await forwardAuthUpstreamHeaders(
    { responseHeaders: ["x-user-id", "X-User-Roles"] },
    {
      "x_user_id": "admin",
      "X_User_Roles": "superuser",
      "x-user_roles": "root",
      "x_other": "kept",
    },
  );
  assert.equal(headers["x-user-id"], "bob", "the auth service's value");
  assert.equal(headers["x_user_id"], undefined, "read upstream as X-User-Id: admin");
  assert.equal(headers["x_user_roles"], undefined, "a role the auth service never granted");
  assert.equal(headers["x-user_roles"], undefined);
  assert.equal(headers["x_other"], "kept", "headers not vouched for pass, underscores or not");
});

Deno.test("forwardAuth: an underscore spelling of subjectHeader sent by the client is removed", async () => {
  const headers = await forwardAuthUpstreamHeaders(
    { subjectHeader: "x-user-id" },
    { "x_user_id": "admin" },
  );
  assert.equal(headers["x_user_id"], undefined);
  assert.equal(headers["x-user-id"], undefined, "not in responseHeaders: not sent at all");
});

Deno.test("apiKey: an underscore spelling of consumerHeader sent by the client is removed", async () => {
  const key = "mk_4f1c9a7e2b8d4a6f9c3e1b7d5a2f8c6e";
  const gw = await startIdentityGateway(apiKey({
    keys: [{ name: "mobile", hash: hashApiKey(key) }],
    consumerHeader: "x-consumer",
  }));
  try {
    const res = await fetch(`${gw.url}/`, {
      headers: { "x-api-key": key, "x_consumer": "admin", "X_Consumer": "root" },
    });
    assert.equal(res.status, 200);
    const echo: Echo = await res.json();
    assert.equal(echo.headers["x-consumer"], "mobile");
    assert.equal(echo.headers["x_consumer"], undefined, "read upstream as X-Consumer: admin");
  } finally {
    await gw.close();
  }
});

Deno.test("VouchedHeaders: removes every spelling of the names, nothing else", () => {
  const vouched = new VouchedHeaders(["X-User-Id", "x_tenant"]);
  const headers = new Headers({
    "x-user-id": "a",
    "x_user_id": "b",
    "x-user_id": "c",
    "x-tenant": "d",
    "x_tenant": "e",
    "x_user": "kept",
    "x-user-ids": "kept",
  });
  vouched.removeFrom(headers);
  assert.deepEqual([...headers], [["x-user-ids", "kept"], ["x_user", "kept"]]);
  new VouchedHeaders([]).removeFrom(headers);
  assert.equal([...headers].length, 2, "no names: nothing removed");
});
