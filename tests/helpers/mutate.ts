import { seededRandom } from "./random.ts";

/** Snippets that break HTTP/1.1 framing anywhere: line ends, separators, NUL, DEL, Latin-1. */
export const FRAMING_SNIPPETS: readonly string[] = [
  "\r\n",
  "\n",
  "\r",
  " ",
  "\t",
  ":",
  "\x00",
  "\x7f",
  "\xff",
];

/**
 * `text` with 1-3 seeded mutations, for the fuzz tests: a character replaced by one of
 * `snippets`, a snippet inserted, up to 8 characters deleted, a run of up to 24 repeated, or the
 * text cut short. The same seed always gives the same text, so a failing case can be replayed.
 */
export function mutateText(text: string, seed: number, snippets: readonly string[]): string {
  const random = seededRandom(seed);
  const pick = () => snippets[Math.floor(random() * snippets.length)];
  const mutations = 1 + Math.floor(random() * 3);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(random() * (text.length + 1));
    const kind = Math.floor(random() * 5);
    if (kind === 0) text = text.slice(0, at) + pick() + text.slice(at + 1);
    else if (kind === 1) text = text.slice(0, at) + pick() + text.slice(at);
    else if (kind === 2) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 8));
    else if (kind === 3) {
      const length = 1 + Math.floor(random() * 24);
      text = text.slice(0, at) + text.slice(at, at + length) + text.slice(at);
    } else text = text.slice(0, at);
  }
  return text;
}
