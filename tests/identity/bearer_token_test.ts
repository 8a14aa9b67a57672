/** Finding bearer tokens in requests, removing them, and reading claims out of payloads. */
import assert from "node:assert/strict";
import { findToken, withoutQueryParam } from "../../src/identity/bearer_token.ts";
import { withoutCookie } from "../../src/proxy/cookies.ts";
import { claimAt, claimHeaderValue, grantedScopes } from "../../src/identity/jwt_claims.ts";

Deno.test("bearer token: Authorization first, then cookie, then query", () => {
  const sources = { cookie: "session", query: "access_token" };
  const both = new Headers({ authorization: "Bearer aaa.bbb.ccc", cookie: "session=ddd.eee.fff" });
  assert.deepEqual(findToken(both, "access_token=ggg", sources), {
    token: "aaa.bbb.ccc",
    from: "header",
  });
  const cookie = new Headers({ cookie: 'theme=dark; session="ddd.eee.fff"' });
  assert.deepEqual(findToken(cookie, "", sources), { token: "ddd.eee.fff", from: "cookie" });
  assert.deepEqual(findToken(new Headers(), "x=1&access_token=g%2Eh", sources), {
    token: "g.h",
    from: "query",
  });
  // Sources not configured are never read.
  assert.equal(findToken(cookie, "access_token=ggg", {}), undefined);
});

Deno.test("bearer token: other schemes are absent tokens, broken Bearer headers malformed", () => {
  for (const other of ["Basic dTpw", "Bearerx.y.z", "Bear", "Bearer\ta.b.c"]) {
    assert.equal(findToken(new Headers({ authorization: other }), "", {}), undefined, other);
  }
  assert.deepEqual(findToken(new Headers({ authorization: "bearer   a.b.c " }), "", {}), {
    token: "a.b.c",
    from: "header",
  });
  for (const value of ["Bearer", "Bearer a b", "Bearer a.b.c, Bearer d.e.f", "Bearer ä"]) {
    const found = findToken(new Headers({ authorization: value }), "", {});
    assert.ok(found && "malformed" in found, value);
  }
});

Deno.test("bearer token: removal keeps everything else byte for byte", () => {
  assert.equal(withoutCookie("a=1; session=x.y.z; b=2", "session"), "a=1; b=2");
  assert.equal(withoutCookie("session=x", "session"), undefined);
  assert.equal(withoutQueryParam("/p?a=%20&access_token=t&b=+", "access_token"), "/p?a=%20&b=+");
  assert.equal(withoutQueryParam("/p?access_token=t", "access_token"), "/p");
  assert.equal(withoutQueryParam("/p", "access_token"), "/p");
});

Deno.test("jwt claims: paths, scopes and header values", () => {
  const payload = {
    sub: "u-1",
    org: { id: "o-7", tags: ["a", "b"] },
    "https://example.com/roles": ["admin"],
    scope: "read  write",
    scp: ["admin"],
  };
  assert.equal(claimAt(payload, "org.id"), "o-7");
  assert.deepEqual(claimAt(payload, "https://example.com/roles"), ["admin"]);
  assert.equal(claimAt(payload, "org.id.x"), undefined);
  assert.equal(claimAt(payload, "constructor"), undefined, "only own properties");
  assert.deepEqual([...grantedScopes(payload)].sort(), ["admin", "read", "write"]);
  assert.equal(claimHeaderValue(claimAt(payload, "org.tags")), "a,b");
  assert.equal(claimHeaderValue({ a: 1 }), '{"a":1}');
  assert.equal(claimHeaderValue(42), "42");
  assert.equal(claimHeaderValue(null), undefined);
  assert.equal(claimHeaderValue("line\r\nx-admin: 1"), "line%0D%0Ax-admin%3A%201");
});
