import type { Sample } from "./sample.ts";

/**
 * A real auth service that allows everything, for the conformance test's plain GET: without an
 * answer the policy fails closed, which is the point of it. It lives as long as the test
 * process (unref'd, so it never keeps the process alive once the tests are done), and it
 * closes every connection after answering, so no test sees one of its connections outlive it.
 */
const allowAll = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () => new Response(null, { status: 204, headers: { connection: "close", "x-user": "sample" } }),
);
allowAll.unref();

/** Conformance sample of `forwardAuth`. */
export const sample: Sample = {
  valid: {
    url: `http://127.0.0.1:${allowAll.addr.port}/verify`,
    responseHeaders: ["x-user"],
    subjectHeader: "x-user",
    timeout: "2s",
  },
  invalid: { url: "http://127.0.0.1:9/verify", responseHeader: ["x-user"] },
  unknownKey: "responseHeader",
};
