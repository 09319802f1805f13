// Reading answers the way a careful grader would: the final number of a worked solution, the
// letter of a multiple-choice pick, words and lines of a reply.
import { visibleText } from '../text.ts';

export interface ExtractedNumber {
  value: number;
  /** The text the number was read from. */
  text: string;
  /** Written with a percent sign ("12.5%": value 12.5). */
  percent: boolean;
}

// Not preceded by a letter, digit or dot, so "v1.2", "x2" and the 5 of "3-5" as a negative are not read.
const NUMBER = /(?<![\p{L}\p{N}_.])(?:(?<sign>[-+])(?=\.?\d))?(?:(?<num>\d+)\s*\/\s*(?<den>\d+)|(?<plain>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?<exp>[eE][-+]?\d+)?)(?<pct>\s*%)?/gu;

function normaliseNumberText(text: string): string {
  return (
    text
      .replace(/[−–]/g, '-') // unicode minus and en dash
      .replace(/\\[dt]?frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}/g, '$1/$2')
      // markdown emphasis around a number ("**42**") must not hide it
      .replace(/[*_`]/g, '')
  );
}

function numbersIn(text: string): ExtractedNumber[] {
  const out: ExtractedNumber[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const g = m.groups ?? {};
    const sign = g.sign === '-' ? -1 : 1;
    let value: number;
    if (g.num !== undefined && g.den !== undefined) {
      const den = Number(g.den);
      if (den === 0) continue;
      value = Number(g.num) / den;
    } else value = Number(`${(g.plain ?? '').replace(/,/g, '')}${g.exp ?? ''}`);
    if (!Number.isFinite(value)) continue;
    out.push({ value: sign * value, text: m[0].trim(), percent: g.pct !== undefined });
  }
  return out;
}

/**
 * The number an answer settles on. In order: the last `\boxed{…}`; the first number after the
 * last "answer is / answer: / answer =" that has one; otherwise the last number in the text.
 * Reads signs, thousands separators (1,234.5), decimals, exponents (1e-3), fractions (3/4 and
 * \frac{3}{4}) and percentages ("12.5%" is 12.5 with `percent` set). Not read: number words
 * ("twelve"), space-separated thousands, decimal commas (12,5) and mixed numbers (1 1/2).
 */
export function extractFinalNumber(answer: string): ExtractedNumber | null {
  const text = normaliseNumberText(answer);
  const boxed = [...text.matchAll(/\\boxed\{([^{}]*)\}/g)].at(-1);
  if (boxed) {
    const inside = numbersIn(boxed[1] ?? '');
    if (inside[0]) return inside[0];
  }
  const markers = [...text.matchAll(/\banswer\s*(?:is\b|[:=])/gi)].reverse();
  for (const marker of markers) {
    const after = numbersIn(text.slice((marker.index ?? 0) + marker[0].length));
    if (after[0]) return after[0];
  }
  return numbersIn(text).at(-1) ?? null;
}

/** Within `tolerance` of `expected` (absolute); a percentage also matches as a fraction ("45%" ~ 0.45). */
export function numberMatches(read: ExtractedNumber, expected: number, tolerance: number): boolean {
  const candidates = read.percent ? [read.value, read.value / 100] : [read.value];
  // float slack, so 0.1 + 0.2 style rounding never decides a zero-tolerance match
  const slack = Number.EPSILON * 8 * Math.max(1, Math.abs(expected));
  return candidates.some((c) => Math.abs(c - expected) <= tolerance + slack);
}

/**
 * The multiple-choice letter an answer picks, or null when it picks none or several. Accepted:
 * "Answer: C" / "the answer is (C)" / "I choose C" (the last such), a reply that is only the letter ("C", "(C).",
 * "**C**"), a reply that starts with "C)", "(C)", "C." or "C:", or exactly one distinct "(C)" in
 * the text. A bare lowercase letter counts only in parentheses, so "the answer is a trick" is no pick.
 */
export function extractChoice(answer: string, letters: string): string | null {
  const allowed = new Set(letters.toUpperCase().split(''));
  const pick = (letter: string | undefined) => (letter && allowed.has(letter.toUpperCase()) ? letter.toUpperCase() : null);
  const text = answer.replace(/[*_`]/g, '').trim();
  const marked = [...text.matchAll(/\b(?:[Aa]nswer|ANSWER|[Cc]hoice|[Oo]ption|[Pp]ick|[Cc]hoose|[Ss]elect|[Gg]o with)(?:\s*(?:is\b|[:=]))*\s*(?:\(([A-Za-z])\)|([A-Z]))(?![\p{L}\p{N}])/gu)]
    .map((m) => pick(m[1] ?? m[2]))
    .filter((l): l is string => l !== null);
  if (marked.length > 0) return marked.at(-1) ?? null;
  const only = /^\W*\(?([A-Za-z])\)?\W*$/.exec(text);
  if (only) return pick(only[1]);
  const leading = /^\(?([A-Z])(?:\)|[.:](?=\s|$))/.exec(text);
  if (leading) return pick(leading[1]);
  const bracketed = new Set([...text.matchAll(/\(([A-Za-z])\)/g)].map((m) => pick(m[1])).filter((l): l is string => l !== null));
  return bracketed.size === 1 ? ([...bracketed][0] ?? null) : null;
}

/** Words: whitespace-separated tokens with at least one letter or digit (a bullet dash is no word). */
export function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

export function nonEmptyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** Lower case (unless asked not to), whitespace collapsed, and dashes and curly quotes made plain, for mentions. */
export function foldText(text: string, caseSensitive = false): string {
  const plain = visibleText(text).replace(/[‐‑‒–—]/g, '-').replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/\s+/g, ' ');
  return caseSensitive ? plain : plain.toLowerCase();
}
