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

/** How the rest of the chain went, as seen from the policy that called `next()`. */
interface Outcome {
  settled: boolean;
  failed?: { error: unknown };
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
    /** The terminal's answer (an upstream response, often still streaming), once it runs. */
    let upstream: Promise<Response> | undefined;
    /** The same answer once it arrived. */
    let upstreamRes: Response | undefined;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= reached) {
        throw new PolicyContractError(policies[i - 1].name, "called next() more than once");
      }
      reached = i;
      if (i === policies.length) {
        upstream = Promise.resolve(terminal(req, state));
        c.res = upstreamRes = await upstream;
        answered = true;
        return;
      }
      let inner: Outcome | undefined;
      const next = () => {
        const run = dispatch(i + 1);
        const outcome: Outcome = { settled: false };
        inner = outcome;
        // Registered before the policy's own `await`, so it runs first. It also handles a
        // rejection the policy never awaits: a policy that drops `next()`'s promise must not
        // turn a later policy's error into an unhandled rejection, which ends the process.
        run.then(() => outcome.settled = true, (error) => {
          outcome.settled = true;
          outcome.failed = { error };
        });
        return run;
      };
      const result = await policies[i].middleware(c, next);
      if (result instanceof Response) {
        // Sent as returned. Hono's setter would merge in the headers of the response it
        // replaces: the upstream's `content-encoding` or `etag` on the policy's own body.
        c.res = undefined;
        c.res = result;
        answered = true;
      } else if (inner && !inner.settled) {
        throw new PolicyContractError(
          policies[i].name,
          "returned before the rest of the chain finished: it must `await next()`",
        );
      } else if (inner?.failed) {
        // The error the policy did not await (or swallowed): the request failed with it.
        throw inner.failed.error;
      }
    };
    try {
      await dispatch(0);
      if (!answered) {
        const last = policies[Math.min(reached, policies.length - 1)].name;
        throw new PolicyContractError(last, "neither called next() nor returned a response");
      }
    } catch (error) {
      // The client gets an error instead: the upstream's answer must not hold its connection.
      if (upstream) discardUnless(upstream, undefined);
      throw error;
    }
    const res = c.res;
    // A policy answered with a response of its own after `next()`: the upstream's goes unread.
    // Checked in place (the answer is in hand by now): no promise on the common path.
    const unread = upstreamRes?.body;
    if (unread && unread !== res.body && !unread.locked) unread.cancel().catch(() => {});
    return res;
  };
}

/**
 * Cancels the body of `pending`'s response once it is known, unless it is the body `kept`
 * carries (Hono re-wraps a response around the same stream) or someone already reads it.
 * Never throws: the request has its answer, and this only releases what it no longer needs.
 */
function discardUnless(pending: Promise<Response>, kept: Response | undefined): void {
  pending.then((res) => {
    const body = res.body;
    if (body && body !== kept?.body && !body.locked) return body.cancel();
  }).catch(() => {});
}
