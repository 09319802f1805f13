// What parsing a script will cost, told before the parser is called: just-bash spends time
// quadratic in some words (thousands of unclosed brackets), so a trajectory's scripts share a
// budget of parser work and a script that would exceed it is refused, saying why.
import { parse, type ScriptNode } from 'just-bash';

/** What ends an unquoted word in bash: blanks, newlines and the metacharacters. */
const WORD_BREAKS = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

/** The parser's own limit on nesting: deeper substitutions are never parsed, only scanned past. */
const PARSER_DEPTH = 200;
/** A substitution's body is rescanned once per level that encloses it, at about twenty times a bracket's cost. */
const SUBSTITUTION_WEIGHT = 20;

/**
 * What the parser would spend on a script, in steps of a few nanoseconds, where that is more than
 * its length: just-bash looks for the `]`, `}` or `)` that closes each unquoted `[`, `{` or
 * extended-glob `(` through the rest of its word, so a word of thousands of them (`echo a[[[[…`)
 * costs the square of its length; and it rescans a `$( … )` body once for each enclosing level (up
 * to its 200). The estimate adds, for each such opener, the characters up to its closer or the
 * end of its word (or script); quoted text and escapes hold none.
 */
export function parseCost(source: string): number {
  // Most commands hold no bracket at all: one native scan says so.
  if (!/[[{(]/.test(source)) return 0;
  let cost = 0;
  // Unquoted `[` and `{` of the current word still waiting for their closer.
  const squares: number[] = [];
  const braces: number[] = [];
  // Open parentheses: substitutions (and whether a double quote was open around them), extended globs, others.
  const parens: { at: number; kind: 'substitution' | 'glob' | 'plain'; inDouble: boolean }[] = [];
  let substitutions = 0;
  let inDouble = false;
  const endWord = (at: number) => {
    for (const from of squares) cost += at - from;
    for (const from of braces) cost += at - from;
    squares.length = 0;
    braces.length = 0;
  };
  const close = (at: number) => {
    const open = parens.pop()!;
    if (open.kind === 'glob') cost += at - open.at;
    if (open.kind === 'substitution') {
      substitutions--;
      if (substitutions < PARSER_DEPTH) cost += SUBSTITUTION_WEIGHT * (at - open.at);
      inDouble = open.inDouble;
    }
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') i++;
    else if (c === '$' && source[i + 1] === '(') {
      parens.push({ at: i, kind: 'substitution', inDouble });
      substitutions++;
      inDouble = false;
      i++;
    } else if (c === '"') inDouble = !inDouble;
    else if (inDouble) continue;
    else if (c === "'") {
      const end = source.indexOf("'", i + 1);
      i = end === -1 ? source.length : end;
    } else if (c === '[') squares.push(i);
    else if (c === '{') braces.push(i);
    else if (c === ']' && squares.length > 0) cost += i - squares.pop()!;
    else if (c === '}' && braces.length > 0) cost += i - braces.pop()!;
    else if (c === '(') {
      const glob = i > 0 && '@*+?!'.includes(source[i - 1]!);
      if (!glob) endWord(i);
      parens.push({ at: i, kind: glob ? 'glob' : 'plain', inDouble });
    } else if (c === ')') {
      endWord(i);
      if (parens.length > 0) close(i);
    } else if (WORD_BREAKS.has(c)) endWord(i);
  }
  endWord(source.length);
  while (parens.length > 0) close(source.length);
  return cost;
}

/**
 * Parser work a trajectory's scripts may cost before a costly one is refused (3 to 10 ns a step on
 * a 2-core machine: one to two seconds), and what one script may cost once that is spent.
 * Ordinary commands cost tens.
 */
export const PARSE_BUDGET = 200_000_000;
const CHEAP_PARSE = 10_000;

/** What a trajectory's parsing may still spend, shared by its scripts. */
export interface ParseBudget {
  left: number;
}

/** How a refusal's message starts. */
const NOT_PARSED = 'not parsed:';
/** The parser's own limits (input size, tokens, statements, nesting, the stack), by what their errors say. */
const PARSER_LIMIT = /Input too large|Too many tokens|too many iterations|nesting depth|call stack size/i;

/**
 * Whether a parse failed at a limit on its cost (this budget or the parser's own), not at a syntax
 * error: bash would run such a script, so what it holds is not judged, and callers must say so.
 */
export function isParseLimit(message: string): boolean {
  return message.startsWith(NOT_PARSED) || PARSER_LIMIT.test(message);
}

/** Parses, unless the parser would spend more than the budget allows on brackets; the refusal says so. */
export function parseWithin(source: string, budget: ParseBudget): ScriptNode {
  const cost = parseCost(source);
  if (cost > CHEAP_PARSE && cost > budget.left) {
    throw new Error(`${NOT_PARSED} its unquoted brackets would cost the parser about ${cost} steps, more than the ${budget.left} left of this trajectory's ${PARSE_BUDGET}`);
  }
  budget.left -= cost;
  return parse(source);
}
