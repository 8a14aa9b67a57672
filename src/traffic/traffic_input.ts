/**
 * What a traffic decision may read about a request. Two implementations: the live request at
 * the end of the route's policy chain, and a request being explained, which has no verified
 * claims and no client address (explain runs no policies and opens no connection).
 */
import { cookieValue } from "../proxy/cookies.ts";
import type { ProxyState } from "../proxy/state.ts";
import { headerText } from "../routing/header_text.ts";
import type { MatchInput } from "../routing/request_view.ts";
import { splitUrl } from "../routing/request_view.ts";

/** The request attributes canary rules and sticky keys read. */
export interface TrafficInput {
  /**
   * A request header (lower-case name), as the route's policies left the headers, with UTF-8
   * text decoded (see routing/header_text.ts).
   */
  header(name: string): string | null;
  cookie(name: string): string | undefined;
  queryParam(name: string): string | null;
  /** Verified claims; `undefined` when none were verified. */
  readonly claims: Readonly<Record<string, unknown>> | undefined;
  /** `false` when claims cannot be known here (explain): claim rules are then undecided. */
  readonly knowsClaims: boolean;
  /** The client IP; `undefined` when unknown (explain). */
  readonly clientIp: string | undefined;
}

/**
 * The live request. Headers are read as the route's policies left them, so a policy can set a
 * header a canary rule routes on (a tenant looked up from an API key, say). A class so that
 * building one allocates no closures; the query is parsed only when a rule asks for it.
 */
export class RequestTrafficInput implements TrafficInput {
  readonly knowsClaims = true;
  #query: URLSearchParams | undefined;

  constructor(private readonly req: Request, private readonly state: ProxyState) {}

  header(name: string): string | null {
    const value = (this.state.requestHeaders ?? this.req.headers).get(name);
    return value === null ? null : headerText(value);
  }

  cookie(name: string): string | undefined {
    return cookieValue(this.header("cookie"), name);
  }

  queryParam(name: string): string | null {
    this.#query ??= new URLSearchParams(splitUrl(this.req.url).query);
    return this.#query.get(name);
  }

  get claims(): Readonly<Record<string, unknown>> | undefined {
    return this.state.claims;
  }

  get clientIp(): string {
    return this.state.clientIp;
  }
}

/** One claim's value; only the claims' own keys count (`constructor` is not a claim). */
export function claimOf(input: TrafficInput, name: string): unknown {
  const claims = input.claims;
  return claims !== undefined && Object.hasOwn(claims, name) ? claims[name] : undefined;
}

/**
 * A request being explained: its method, URL and headers only. The headers are as a client
 * sends them (`wireHeaders`), so they are read as text the way a live request's are.
 */
export function explainedInput(input: MatchInput): TrafficInput {
  const header = (name: string) => {
    const value = input.header(name);
    return value === null ? null : headerText(value);
  };
  return {
    header,
    cookie: (name) => cookieValue(header("cookie"), name),
    queryParam: (name) => input.queryParam(name),
    claims: undefined,
    knowsClaims: false,
    clientIp: undefined,
  };
}
