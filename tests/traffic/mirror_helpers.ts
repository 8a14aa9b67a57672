/**
 * Helpers of the mirroring tests: a shadow upstream that holds requests until released (and
 * counts how many it holds at once), and polling admin `/mirror` until mirrors have finished.
 */
import type { MirrorRouteSummary } from "../../src/traffic/mirror_summary.ts";

/** One request as a test shadow saw it. */
export interface ShadowSeen {
  method: string;
  path: string;
  headers: Headers;
  body: Uint8Array;
}

/** A `Deno.serve` shadow that answers only once `release()` is called. */
export class HeldShadow {
  readonly seen: ShadowSeen[] = [];
  /** Requests being held right now, and the most ever held at once. */
  current = 0;
  max = 0;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #released: Promise<void>;
  #release!: () => void;
  readonly #arrivals: { count: number; resolve: () => void }[] = [];

  constructor() {
    this.#released = new Promise((resolve) => this.#release = resolve);
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      this.current++;
      this.max = Math.max(this.max, this.current);
      const body = new Uint8Array(await req.arrayBuffer());
      this.seen.push({
        method: req.method,
        path: new URL(req.url).pathname,
        headers: req.headers,
        body,
      });
      for (const w of this.#arrivals.filter((w) => this.seen.length >= w.count)) w.resolve();
      await this.#released;
      this.current--;
      return new Response("shadow", { headers: { "content-type": "text/plain" } });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Resolves once `count` requests have arrived. */
  arrived(count: number): Promise<void> {
    if (this.seen.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#arrivals.push({ count, resolve }));
  }

  release(): void {
    this.#release();
  }

  async close(): Promise<void> {
    this.release();
    await this.#server.shutdown();
  }
}

/** The `/mirror` entry of `route`. */
export async function mirrorSummary(adminUrl: string, route: string): Promise<MirrorRouteSummary> {
  const res = await fetch(`${adminUrl}/mirror`);
  const body = await res.json() as { routes: MirrorRouteSummary[] };
  const entry = body.routes.find((r) => r.route === route);
  if (!entry) throw new Error(`no /mirror entry for route ${route}: ${JSON.stringify(body)}`);
  return entry;
}

/**
 * Polls `/mirror` until `done` holds for the route's entry, at most `timeoutMs`. Mirrors finish
 * after the client's response by design, so a test can only observe their end from outside.
 */
export async function pollMirror(
  adminUrl: string,
  route: string,
  done: (s: MirrorRouteSummary) => boolean,
  timeoutMs = 10_000,
): Promise<MirrorRouteSummary> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const summary = await mirrorSummary(adminUrl, route);
    if (done(summary)) return summary;
    if (Date.now() > deadline) {
      throw new Error(
        `mirrors of ${route} did not finish in ${timeoutMs} ms: ` +
          JSON.stringify(summary),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** All mirrors of a summary have finished, and `total` requests were chosen. */
export function finished(total: number): (s: MirrorRouteSummary) => boolean {
  return (s) =>
    s.inFlight === 0 &&
    s.requests.sent + s.requests.dropped + s.requests.skipped + s.requests.error === total &&
    (s.diff === undefined || s.diff.match + s.diff.mismatch + s.diff.error ===
        s.requests.sent + s.requests.error);
}

/** The value of one metric series in Prometheus text, or `undefined`. */
export async function metricValue(adminUrl: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
