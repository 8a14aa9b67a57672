import assert from "node:assert/strict";
import { backtrackingProblem } from "../../src/config/regex_safety.ts";
import { seededRandom } from "../helpers/random.ts";

/** Patterns users write: none may be refused. */
const ORDINARY = [
  "^[0-9]+$",
  "^(v1|v2)/",
  "^Bearer [A-Za-z0-9._-]+$",
  "(foo)?bar",
  "^/api/(users|orders)/[0-9]+$",
  "[a-z]{2,8}",
  "^t-[0-9]+$",
  "^rc-",
  "",
  "x*y*",
  "^(ab)+$",
  "^(?:a|b)+$",
  "(?:ab|cd)*",
  "(a|ab)*",
  "^(?:[a-z]|[0-9])+$",
  "^(?:\\w|-)+$",
  "(?:(a|b){2})*",
  "^(\\d{1,3}\\.){3}\\d{1,3}$",
  "^([a-z0-9-]+\\.)+[a-z]{2,}$",
  "^(/[^/]+)+$",
  "^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$",
  "^(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}$",
  "(,\\s*)+",
  "((a+,))+",
  "(?:a?b)+",
  "(a+)?",
  "(a{3})+",
  "(?:(?:ab){2})+",
  "(a+){1}",
  "(a+){0,1}",
  "(?=a+)b",
  "(?<name>[a-z]+)-\\k<name>",
  "([a-z]+)-\\1",
  // Escaped parentheses and quantifier characters in classes are literal.
  "\\(a+\\)+",
  "[+*?]+",
  "[(a+)+]+",
  "a\\+\\+",
  // Annex B: "{,5}" and a lone "{" are literal text, not counts.
  "(a+){,5}",
  "a{,5}",
  "{",
  "}",
  "[]",
  "[^]+",
  "\\u{3}",
  "\\x41+\\u0042*",
  "\\cA+",
  "(?i:ab)+",
  "(?:ab|)*",
  "(a|b|c)*",
];

/** Catastrophic patterns, each with the part the message must show. */
const CATASTROPHIC: [pattern: string, shown: string][] = [
  ["(a+)+$", "(a+)+"],
  ["^(a+)+$", "(a+)+"],
  ["(\\w+\\s?)*$", "(\\w+\\s?)*"],
  ["(a*)*", "(a*)*"],
  ["(a+)*b", "(a+)*"],
  ["((a+))+", "((a+))+"],
  ["(?:a+)+", "(?:a+)+"],
  ["(?:a+?)+?", "(?:a+?)+?"],
  ["(a{2,8})+", "(a{2,8})+"],
  ["(a+){2,8}", "(a+){2,8}"],
  ["(a+){2,}", "(a+){2,}"],
  ["(a?){25}", "(a?){25}"],
  ["(.*a){20}", "(.*a){20}"],
  ["(x+x+)+y", "(x+x+)+"],
  ["(?:[a-z]+\\.?)+", "(?:[a-z]+\\.?)+"],
  ["([a-z.]+\\.)+", "([a-z.]+\\.)+"],
  ["(\\w+\\d)+", "(\\w+\\d)+"],
  ["^(([a-z])+.)+[A-Z]([a-z])+$", "(([a-z])+.)+"],
  ["((a,)+)+", "((a,)+)+"],
  ["(?=(a+)+b)", "(a+)+"],
  ["(?:(?=a+)b)+", "(?:(?=a+)b)+"],
  ["(a|a?)+", "(a|a?)+"],
  ["(\\d+|\\d+\\.\\d+)*", "(\\d+|\\d+\\.\\d+)*"],
  ["(?<n>a+)+", "(?<n>a+)+"],
  ["x(?:y|(z*))+", "(?:y|(z*))+"],
];

/** Repeated alternations whose branches can match the same text. */
const OVERLAPPING: [pattern: string, shown: string][] = [
  ["(a|a)*", "(a|a)*"],
  ["(a|aa)*b", "(a|aa)*"],
  ["(\\w|\\d)+$", "(\\w|\\d)+"],
  ["(a|b|ab)*", "(a|b|ab)*"],
  ["(?:[ab]|a)+", "(?:[ab]|a)+"],
  ["(ab|abab){2,}", "(ab|abab){2,}"],
  ["(?:.|\\s)*", "(?:.|\\s)*"],
  ["(?:(x|[xy])z)*", "(?:(x|[xy])z)*"],
  ["(?:a|(?:a))+", "(?:a|(?:a))+"],
  ["(?:a{2}|aa)+", "(?:a{2}|aa)+"],
  ["(?:ab|a|ba)+", "(?:ab|a|ba)+"],
];

Deno.test("ordinary patterns are not refused", () => {
  for (const pattern of ORDINARY) {
    new RegExp(pattern); // each one compiles, as config regexes must
    assert.equal(backtrackingProblem(pattern), undefined, pattern);
  }
});

Deno.test("a quantified group that contains a varying quantifier is refused", () => {
  for (const [pattern, shown] of CATASTROPHIC) {
    new RegExp(pattern);
    const problem = backtrackingProblem(pattern);
    assert.ok(problem, `expected ${pattern} to be refused`);
    assert.ok(problem.startsWith(`nested quantifier ${JSON.stringify(shown)} `), problem);
  }
});

Deno.test("the nested quantifier message says why and what to change", () => {
  assert.equal(
    backtrackingProblem("(a+)+$"),
    'nested quantifier "(a+)+" can take exponential time on crafted input; rewrite it ' +
      "without a quantified group that contains a quantifier",
  );
});

Deno.test("a repeated alternation whose branches can match the same text is refused", () => {
  for (const [pattern, shown] of OVERLAPPING) {
    new RegExp(pattern);
    const problem = backtrackingProblem(pattern);
    assert.ok(problem, `expected ${pattern} to be refused`);
    assert.ok(problem.startsWith(`repeated alternation ${JSON.stringify(shown)} `), problem);
    assert.match(problem, /can match the same text/);
  }
});

Deno.test("the outermost catastrophic group is the one named", () => {
  assert.match(backtrackingProblem("((a+)+)+")!, /^nested quantifier "\(\(a\+\)\+\)\+"/);
});

Deno.test("a counted repetition far beyond any word is not expanded", () => {
  // Neither allocates a 99999999-item array nor throws on a count past 2^32.
  assert.equal(backtrackingProblem("(?:ab){99999999}"), undefined);
  assert.equal(backtrackingProblem("(?:ab){99999999999999999999}"), undefined);
});

Deno.test("characters are compared as the engine reads them, one UTF-16 unit at a time", () => {
  assert.ok(backtrackingProblem("(?:[\\ud800-\\udbff]|[\\ud900x])*"), "lone surrogates overlap");
  assert.equal(backtrackingProblem("(?:[\\ud800-\\udbff]|[\\ufffdx])*"), undefined);
  assert.ok(backtrackingProblem("(?:[\\uffff]|[\\uffffx])*"), "the last code unit");
  assert.ok(backtrackingProblem("(?:[\\u0000]|\\0)*"), "the first code unit");
  assert.equal(backtrackingProblem("(?:[\\u0000]|\\x01)*"), undefined);
});

Deno.test("any pattern that compiles is read without throwing", () => {
  const random = seededRandom(7);
  const pieces = [
    "a",
    "b",
    "(",
    ")",
    "(?:",
    "(?=",
    "(?!",
    "(?<=",
    "(?<!",
    "(?<g>",
    "|",
    "*",
    "+",
    "?",
    "{2}",
    "{1,3}",
    "{2,}",
    "{,2}",
    "{",
    "}",
    "[",
    "]",
    "[^",
    "\\",
    "\\d",
    "\\1",
    "\\k<g>",
    "\\c",
    "\\x4",
    "\\u00",
    ".",
    "^",
    "$",
    "-",
  ];
  let compiled = 0;
  for (let i = 0; i < 20_000; i++) {
    let source = "";
    const length = 1 + Math.floor(random() * 12);
    for (let j = 0; j < length; j++) source += pieces[Math.floor(random() * pieces.length)];
    try {
      new RegExp(source);
    } catch {
      continue;
    }
    compiled++;
    const problem = backtrackingProblem(source);
    assert.ok(problem === undefined || typeof problem === "string", source);
  }
  assert.ok(compiled > 1000, `only ${compiled} random patterns compiled`);
});
