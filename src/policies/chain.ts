/**
 * Runs a route's policies in declared order around the terminal action (forward or redirect),
 * with Hono's middleware semantics: a policy calls `await next()` to continue and may edit
 * `c.res` afterwards, or answers by returning a Response without calling `next()`.
 *
 * The Hono `Context` is created only for routes that have policies: a route without any goes
 * straight to its terminal, which saves the context and a dispatch layer on the common path.
 */
import { Context } from "hono";
import type { GatewayEnv, ProxyState } from "../proxy/state.ts";
import type { PolicyMiddleware } from "./policy.ts";

/** The terminal step of a chain: sees the request as policies left it (via `state`). */
export type Terminal = (req: Request, state: ProxyState) => Promise<Response> | Response;

/** A composed chain: one function per route, built once per snapshot. */
export type RouteChain = (
  req: Request,
  info: unknown,
  state: ProxyState,
) => Promise<Response> | Response;

/** Raised when a policy neither continued nor answered: a bug in that policy. */
export class PolicyContractError extends Error {
  constructor(readonly policy: string, detail: string) {
    super(`policy "${policy}" ${detail}`);
    this.name = "PolicyContractError";
  }
}

/** Composes `policies` (named for errors) around `terminal`. */
export function composeChain(
  policies: readonly { name: string; middleware: PolicyMiddleware }[],
  terminal: Terminal,
): RouteChain {
  if (policies.length === 0) return (req, _info, state) => terminal(req, state);
  return async (req, info, state) => {
    const c = new Context<GatewayEnv>(req, { env: info });
    c.set("proxy", state);
    let reached = -1;
    let answered = false;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= reached) {
        throw new PolicyContractError(policies[i - 1].name, "called next() more than once");
      }
      reached = i;
      if (i === policies.length) {
        c.res = await terminal(req, state);
        answered = true;
        return;
      }
      const result = await policies[i].middleware(c, () => dispatch(i + 1));
      if (result instanceof Response) {
        c.res = result;
        answered = true;
      }
    };
    await dispatch(0);
    if (!answered) {
      const last = policies[Math.min(reached, policies.length - 1)].name;
      throw new PolicyContractError(last, "neither called next() nor returned a response");
    }
    return c.res;
  };
}
