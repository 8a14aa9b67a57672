/** `admin.tokenEnv` naming a variable that is not set fails the start, by name. */
import assert from "node:assert/strict";
import { startTestGateway } from "../helpers/gateway.ts";

const config = {
  upstreams: { api: { targets: ["http://127.0.0.1:9"] } },
  routes: [{ name: "all", upstream: "api" }],
  admin: { tokenEnv: "FERRY_TEST_ADMIN_TOKEN" },
};

Deno.test("admin.tokenEnv naming an unset variable fails the start and says which", async () => {
  await assert.rejects(
    () => startTestGateway(config, { env: {} }),
    /admin\.tokenEnv names FERRY_TEST_ADMIN_TOKEN, which is not set/,
  );
});

Deno.test("admin.tokenEnv naming an empty variable fails the start too", async () => {
  await assert.rejects(
    () => startTestGateway(config, { env: { FERRY_TEST_ADMIN_TOKEN: "" } }),
    /which is empty/,
  );
});

Deno.test("admin.tokenEnv naming a set variable starts", async () => {
  const gw = await startTestGateway(config, { env: { FERRY_TEST_ADMIN_TOKEN: "s3cret-token" } });
  await gw.close();
});
