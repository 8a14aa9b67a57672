/**
 * A gateway in front of one raw test server with retries, the circuit breaker and outlier
 * detection off: what the client gets is exactly what one exchange with that server produced.
 */
import assert from "node:assert/strict";
import { readProblem, startTestGateway } from "../../helpers/gateway.ts";
import { startRawServer } from "./raw_server.ts";

/** Starts a gateway routing everything to `http://127.0.0.1:<port>` (upstream `raw`). */
export function startPlainGateway(port: number): ReturnType<typeof startTestGateway> {
  return startTestGateway({
    upstreams: {
      raw: {
        targets: [`http://127.0.0.1:${port}`],
        retries: false,
        circuitBreaker: false,
        outlierDetection: false,
      },
    },
    routes: [{ name: "all", upstream: "raw" }],
  }, { admin: false });
}

/**
 * Sends one request through a plain gateway to a raw server that answers `answer` and closes;
 * asserts a 502 upstream-protocol-error and returns its detail.
 */
export async function protocolErrorDetail(answer: string): Promise<string> {
  const server = startRawServer(async (conn) => {
    await conn.readHead();
    await conn.write(answer);
  });
  const gw = await startPlainGateway(server.port);
  try {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 502);
    const problem = await readProblem(res);
    assert.equal(problem.type, "https://ferry.dev/problems/upstream-protocol-error");
    return problem.detail;
  } finally {
    await gw.close();
    await server.close();
  }
}
