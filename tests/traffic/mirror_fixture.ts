/**
 * The gateway the mirroring tests run: route "api" sends each request to upstream "api" (the
 * primary) and mirrors it to upstream "shadow".
 */
import { startTestGateway } from "../helpers/gateway.ts";

export interface MirrorGatewaySetup {
  /** The primary's URL. */
  primary: string;
  /** The shadow's URL. */
  shadow: string;
  /** More of the shadow upstream's config, such as `timeouts`. */
  shadowUpstream?: Record<string, unknown>;
  /** More of the route's `mirror` config, such as `maxBodyBytes` or `diff`. */
  mirror?: Record<string, unknown>;
}

/** Starts the gateway of `setup`, with the admin server (for `/mirror` and `/metrics`). */
export function startMirrorGateway(
  setup: MirrorGatewaySetup,
): ReturnType<typeof startTestGateway> {
  return startTestGateway({
    upstreams: {
      api: { targets: [setup.primary] },
      shadow: { targets: [setup.shadow], ...setup.shadowUpstream },
    },
    routes: [{ name: "api", upstream: "api", mirror: { upstream: "shadow", ...setup.mirror } }],
  });
}
