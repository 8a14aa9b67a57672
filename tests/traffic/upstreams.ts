/**
 * Helpers for the traffic tests: real upstreams that answer with their own name, and a bounded
 * loop that sends many requests and counts which upstream answered each.
 */
import { startUpstream, type TestUpstream } from "../helpers/gateway.ts";

/** Upstreams by name; each answers every request with its name as the body. */
export interface NamedUpstreams {
  readonly byName: Record<string, TestUpstream>;
  /** `{ v1: { targets: [url] }, ... }` for a config. */
  readonly config: Record<string, { targets: string[] }>;
  close(): Promise<void>;
}

export function startNamedUpstreams(...names: string[]): NamedUpstreams {
  const byName: Record<string, TestUpstream> = {};
  for (const name of names) byName[name] = startUpstream(() => new Response(name));
  return {
    byName,
    config: Object.fromEntries(names.map((n) => [n, { targets: [byName[n].url] }])),
    close: async () => void await Promise.all(Object.values(byName).map((u) => u.close())),
  };
}

/**
 * Sends `count` requests built by `request(i)` through `fetch`, at most `concurrency` at a time,
 * and returns the body (the answering upstream's name) of each, by index. A non-200 answer
 * fails the test.
 */
export async function sendAll(
  fetch: (req: Request) => Promise<Response>,
  count: number,
  request: (i: number) => Request,
  concurrency = 32,
): Promise<string[]> {
  const answers = new Array<string>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(request(i));
      const body = await res.text();
      if (res.status !== 200) throw new Error(`request ${i}: ${res.status} ${body}`);
      answers[i] = body;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return answers;
}

/** How many answers came from each name. */
export function tally(answers: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
  return counts;
}
