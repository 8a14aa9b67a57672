/**
 * The README's "Testing your routes in `deno test`" example, copied as written: it must pass
 * against the showcase config, and the README must still show this very code.
 */
import assert from "node:assert/strict";
import { createGateway } from "../../mod.ts";
import config from "../../routes.config.ts";

const EXAMPLE_BODY = `Deno.test("users go to the users service", async () => {
  const gw = await createGateway(config);
  const e = gw.explain("GET", "http://api.example.com/api/users/7");
  if (e.winner?.name !== "user-by-id") throw new Error(JSON.stringify(e));
  await gw.close();
});`;

Deno.test("users go to the users service", async () => {
  const gw = await createGateway(config);
  const e = gw.explain("GET", "http://api.example.com/api/users/7");
  if (e.winner?.name !== "user-by-id") throw new Error(JSON.stringify(e));
  await gw.close();
});

Deno.test("the README's route test example is the one run here", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert.ok(readme.includes(EXAMPLE_BODY), "README's route test example changed: copy it here");
});
