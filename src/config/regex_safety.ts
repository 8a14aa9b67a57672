/**
 * Refuses regexes that can backtrack catastrophically (ReDoS). Config regexes (header, query,
 * cookie and claim conditions, path param constraints, rewrite patterns) run against request
 * input on the gateway's one thread, and JavaScript's engine backtracks: `^(a+)+$` against
 * thirty `a`s and a `!` tries every way to split the `a`s between the two `+`s, about 2^30
 * attempts, and every request behind it waits. Envoy avoids this by running RE2 only; Ferry keeps
 * JavaScript regexes and refuses, at config load, the two shapes that make the number of attempts
 * grow exponentially with the input:
 *
 * 1. A nested quantifier: a group that can repeat more than once (`*`, `+`, `{n,}`, `{n,m}` with
 *    m > 1) containing a quantifier whose count varies (`*`, `+`, `?`, `{n,m}` with n < m), at
 *    any depth, lookarounds included: `(a+)+`, `(\w+\s?)*`, `(.*a){20}`. A counted quantifier is
 *    no exception: `(a{2,8})+` and `(a+){2,8}` still split a run of `a`s in exponentially (or
 *    polynomially, of degree 8) many ways.
 *    Allowed: a group of exactly one quantified character (or class) and one character it can
 *    never match, either order: `([a-z]+\.)+`, `(\d{1,3}\.){3}`, `(/[^/]*)+`. Every repetition
 *    ends (or starts) at that character and nowhere else, so the input splits one way only.
 * 2. A repeated alternation whose branches can match the same text: `(a|a)*`, `(a|aa)*`,
 *    `(\w|\d)+`, `(a|b|ab)*`. A text with two splits repeated k times has 2^k. Checked exactly
 *    (Sardinas–Patterson) when the group holds only characters, classes, groups, alternations and
 *    fixed counts; a group that holds anything else (a lookaround, a backreference) is not
 *    checked.
 *
 * Everything else is allowed: `^[0-9]+$`, `^(v1|v2)/`, `(foo)?bar`, `[a-z]{2,8}`, `(ab|cd)*`.
 * Polynomial backtracking from patterns of star height one (`a*a*b`, `\s+$`) is not refused;
 * route conditions bound it by capping the length of the text they test.
 *
 * The patterns are read as `new RegExp(source)` reads them (no flags, so Annex B syntax: `{,5}`
 * and a lone `{` are literal characters) and must already compile.
 */

/** Why `source` can backtrack catastrophically, or `undefined` when it cannot. */
export function backtrackingProblem(source: string): string | undefined {
  const tree = new Parser(source).parse();
  return findProblem(tree, new CharSets());
}

/** A parsed regex: alternatives of sequences. */
type Alternatives = Node[][];

type Node =
  /** Matches exactly one UTF-16 code unit from a set: a literal, an escape, a class or `.`. */
  | { kind: "char"; source: string }
  /** An assertion (`^`, `$`, `\b`) or a backreference: no quantifier inside, length unknown. */
  | { kind: "opaque" }
  | { kind: "group"; lookaround: boolean; alternatives: Alternatives }
  | { kind: "repeat"; node: Node; min: number; max: number; source: string };

/** A recursive-descent reader of JavaScript regex syntax without flags. */
class Parser {
  private pos = 0;
  /** `\k<name>` is a backreference only in a pattern with named groups (Annex B). */
  private readonly namedGroups: boolean;

  constructor(private readonly source: string) {
    this.namedGroups = /\(\?<(?![=!])/.test(source);
  }

  parse(): Alternatives {
    return this.alternatives();
  }

  private alternatives(): Alternatives {
    const result: Alternatives = [[]];
    while (this.pos < this.source.length && this.source[this.pos] !== ")") {
      if (this.source[this.pos] === "|") {
        this.pos++;
        result.push([]);
      } else result[result.length - 1].push(this.term());
    }
    return result;
  }

  private term(): Node {
    const start = this.pos;
    const node = this.atom();
    const count = this.quantifier();
    if (count === undefined) return node;
    if (this.source[this.pos] === "?") this.pos++; // lazy: same attempts, other order
    return { kind: "repeat", node, ...count, source: this.source.slice(start, this.pos) };
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.source[this.pos];
    if (c === "*" || c === "+" || c === "?") {
      this.pos++;
      return { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : Infinity };
    }
    if (c !== "{") return undefined;
    COUNTED.lastIndex = this.pos;
    const m = COUNTED.exec(this.source);
    // Not `{n}`, `{n,}` or `{n,m}`: a literal "{", read as the next atom.
    if (m === null) return undefined;
    this.pos += m[0].length;
    const min = Number(m[1]);
    return { min, max: m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]) };
  }

  private atom(): Node {
    const start = this.pos;
    const c = this.source[this.pos];
    if (c === "(") return this.group();
    if (c === "\\") return this.escape();
    this.pos++;
    if (c === "^" || c === "$") return { kind: "opaque" };
    if (c === "[") {
      // "]" right after "[" or "[^" closes the class in JavaScript ("[]" matches nothing).
      if (this.source[this.pos] === "^") this.pos++;
      while (this.pos < this.source.length && this.source[this.pos] !== "]") {
        this.pos += this.source[this.pos] === "\\" ? 2 : 1;
      }
      this.pos++;
    }
    return { kind: "char", source: this.source.slice(start, this.pos) };
  }

  private escape(): Node {
    const start = this.pos;
    const rest = this.source.slice(this.pos + 1);
    const c = rest[0];
    let length = 2;
    let opaque = false;
    if (c === "b" || c === "B") opaque = true;
    else if (/^[1-9]|^0[0-9]/.test(rest)) {
      // A backreference, or an Annex B octal escape: either way not one known character.
      length = 1 + /^[0-9]+/.exec(rest)![0].length;
      opaque = true;
    } else if (c === "k" && this.namedGroups && rest[1] === "<") {
      length = 1 + rest.indexOf(">") + 1;
      opaque = true;
    } else if (c === "c") {
      // `\cA` is a control character; a lone `\c` is a backslash, then a literal "c".
      if (/^c[A-Za-z]/.test(rest)) length = 3;
      else [length, opaque] = [1, true];
    } else if (c === "x" && /^x[0-9A-Fa-f]{2}/.test(rest)) length = 4;
    else if (c === "u" && /^u[0-9A-Fa-f]{4}/.test(rest)) length = 6;
    this.pos += length;
    return opaque
      ? { kind: "opaque" }
      : { kind: "char", source: this.source.slice(start, this.pos) };
  }

  private group(): Node {
    const head = GROUP_HEAD.exec(this.source.slice(this.pos))![0];
    this.pos += head.length;
    const lookaround = /^\(\?<?[=!]$/.test(head);
    const alternatives = this.alternatives();
    this.pos++; // ")"
    return { kind: "group", lookaround, alternatives };
  }
}

/** `{n}`, `{n,}`, `{n,m}` at the reader's position. */
const COUNTED = /\{([0-9]+)(,([0-9]*))?\}/y;
/** `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!`, `(?<name>` or a modifiers group like `(?i:`. */
const GROUP_HEAD = /^\((?:\?(?:<[=!]|[=!:]|<[^>]*>|[A-Za-z-]*:))?/;

/** The first catastrophic shape in `alternatives`, outermost first, as a message. */
function findProblem(alternatives: Alternatives, sets: CharSets): string | undefined {
  for (const sequence of alternatives) {
    for (const node of sequence) {
      const problem = nodeProblem(node, sets);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function nodeProblem(node: Node, sets: CharSets): string | undefined {
  if (node.kind === "group") return findProblem(node.alternatives, sets);
  if (node.kind !== "repeat") return undefined;
  if (node.max > 1) {
    const shown = JSON.stringify(node.source);
    if (hasVaryingCount(node.node) && !splitsOneWay(node.node, sets)) {
      return `nested quantifier ${shown} can take exponential time on crafted input; rewrite ` +
        `it without a quantified group that contains a quantifier`;
    }
    if (branchesOverlap(node.node, sets)) {
      return `repeated alternation ${shown} has branches that can match the same text, which ` +
        `can take exponential time on crafted input; rewrite it so that no two branches can ` +
        `match the same text (like "(a|aa)*" as "a*")`;
    }
  }
  return nodeProblem(node.node, sets);
}

/** Whether `node` holds a quantifier whose count varies, at any depth. */
function hasVaryingCount(node: Node): boolean {
  if (node.kind === "repeat") return node.min !== node.max || hasVaryingCount(node.node);
  if (node.kind === "group") return node.alternatives.some((seq) => seq.some(hasVaryingCount));
  return false;
}

/**
 * Whether `node` is one quantified character and one character it cannot match, in either
 * order (`[a-z]+\.`, `/[^/]*`): its repetitions then split the input one way only.
 */
function splitsOneWay(node: Node, sets: CharSets): boolean {
  const inner = unwrapped(node);
  if (inner.kind !== "group" || inner.lookaround || inner.alternatives.length !== 1) return false;
  const sequence = inner.alternatives[0];
  if (sequence.length !== 2) return false;
  const [first, second] = sequence;
  const [run, delimiter] = first.kind === "repeat" ? [first, second] : [second, first];
  return run.kind === "repeat" && run.node.kind === "char" && delimiter.kind === "char" &&
    !sets.overlap(run.node.source, delimiter.source);
}

/** `node` without groups of one plain item around it: `((a+,))` is `(a+,)`. */
function unwrapped(node: Node): Node {
  while (
    node.kind === "group" && !node.lookaround && node.alternatives.length === 1 &&
    node.alternatives[0].length === 1 && node.alternatives[0][0].kind === "group"
  ) node = node.alternatives[0][0];
  return node;
}

/** A text `node` matches, as the character sets of its positions. */
type Word = readonly string[];

/** Beyond these, the expansion is given up (and the group not refused). */
const MAX_WORDS = 32;
const MAX_WORD_LENGTH = 32;

/**
 * Every text `node` can match, as words of character sets, or `undefined` when it holds
 * something else (a varying quantifier, an assertion, a lookaround, a backreference) or too many.
 */
function expand(node: Node): Word[] | undefined {
  if (node.kind === "char") return [[node.source]];
  if (node.kind === "opaque") return undefined;
  if (node.kind === "repeat") {
    const fixed = node.min === node.max && node.min <= MAX_WORD_LENGTH;
    const one = fixed ? expand(node.node) : undefined;
    return one && concatenation(Array<Word[]>(node.min).fill(one));
  }
  if (node.lookaround) return undefined;
  const words: Word[] = [];
  for (const sequence of node.alternatives) {
    const parts: Word[][] = [];
    for (const item of sequence) {
      const part = expand(item);
      if (part === undefined) return undefined;
      parts.push(part);
    }
    const sequenceWords = concatenation(parts);
    if (sequenceWords === undefined) return undefined;
    words.push(...sequenceWords);
    if (words.length > MAX_WORDS) return undefined;
  }
  return words;
}

function concatenation(parts: readonly Word[][]): Word[] | undefined {
  let words: Word[] = [[]];
  for (const part of parts) {
    const next: Word[] = [];
    for (const head of words) {
      for (const tail of part) {
        if (head.length + tail.length > MAX_WORD_LENGTH) return undefined;
        next.push([...head, ...tail]);
      }
    }
    if (next.length > MAX_WORDS) return undefined;
    words = next;
  }
  return words;
}

/**
 * Whether two ways of repeating `node` can match the same text: the Sardinas–Patterson test of
 * unique decodability, with "same character" read as "character sets that share one". That is
 * exact here, since each position of the text is compared once, between one branch of each way.
 * Empty branches are left out: an empty repetition ends the loop in JavaScript.
 */
function branchesOverlap(node: Node, sets: CharSets): boolean {
  const words = expand(unwrapped(node))?.filter((w) => w.length > 0);
  if (words === undefined || words.length < 2) return false;
  /** Whether `a` matches the start of `b` (`a` no longer than `b`). */
  const startsAlike = (a: Word, b: Word) => a.every((set, i) => sets.overlap(set, b[i]));
  // Dangling suffixes: what one way has matched beyond the other, as (word, offset).
  const seen = new Set<string>();
  const pending: [number, number][] = [];
  const add = (word: number, offset: number) => {
    const key = `${word}:${offset}`;
    if (!seen.has(key)) {
      seen.add(key);
      pending.push([word, offset]);
    }
  };
  for (let i = 0; i < words.length; i++) {
    for (let j = 0; j < words.length; j++) {
      if (i === j || words[i].length > words[j].length) continue;
      if (!startsAlike(words[i], words[j])) continue;
      if (words[i].length === words[j].length) return true;
      add(j, words[i].length);
    }
  }
  while (pending.length > 0) {
    const [word, offset] = pending.pop()!;
    const rest = words[word].slice(offset);
    for (let k = 0; k < words.length; k++) {
      const other = words[k];
      if (rest.length <= other.length && startsAlike(rest, other)) {
        if (rest.length === other.length) return true;
        add(k, rest.length);
      } else if (other.length < rest.length && startsAlike(other, rest)) {
        add(word, offset + other.length);
      }
    }
  }
  return false;
}

/** Which code units single-character atoms match, read by the engine itself; cached per check. */
class CharSets {
  private readonly matchers = new Map<string, RegExp>();
  /** Bit sets of 65,536 bits, one per code unit. */
  private readonly members = new Map<string, Uint32Array>();

  /** Whether atoms `a` and `b` can match the same code unit. */
  overlap(a: string, b: string): boolean {
    const one = plainChar(a) ?? plainChar(b);
    if (one !== undefined) return this.matcher(a).test(one) && this.matcher(b).test(one);
    const setA = this.membersOf(a);
    const setB = this.membersOf(b);
    for (let i = 0; i < setA.length; i++) if ((setA[i] & setB[i]) !== 0) return true;
    return false;
  }

  private matcher(atom: string): RegExp {
    let re = this.matchers.get(atom);
    if (re === undefined) this.matchers.set(atom, re = new RegExp(`^(?:${atom})$`));
    return re;
  }

  /**
   * Without the `u` flag an atom matches one UTF-16 code unit: all 65,536 are tried, in one
   * global search of a text that holds each once.
   */
  private membersOf(atom: string): Uint32Array {
    let set = this.members.get(atom);
    if (set === undefined) {
      set = new Uint32Array(0x10000 / 32);
      for (const text of allCodeUnits().match(new RegExp(atom, "g")) ?? []) {
        const unit = text.charCodeAt(0);
        set[unit >>> 5] |= 1 << (unit & 31);
      }
      this.members.set(atom, set);
    }
    return set;
  }
}

let codeUnits: string | undefined;
/** Every UTF-16 code unit once, in order; built on first use. */
function allCodeUnits(): string {
  if (codeUnits === undefined) {
    // Built in chunks of 4096 units: one call with 65,536 arguments can overflow the stack.
    // (TextDecoder would turn the lone surrogates into U+FFFD.)
    const chunks: string[] = [];
    for (let start = 0; start < 0x10000; start += 0x1000) {
      chunks.push(String.fromCharCode(...Array.from({ length: 0x1000 }, (_, i) => start + i)));
    }
    codeUnits = chunks.join("");
  }
  return codeUnits;
}

/** The one character a literal atom (`a`, `\.`, `/`) stands for, else `undefined`. */
function plainChar(atom: string): string | undefined {
  if (atom.length === 1 && atom !== ".") return atom;
  if (atom.length === 2 && atom[0] === "\\" && !/[A-Za-z0-9]/.test(atom[1])) return atom[1];
  return undefined;
}
