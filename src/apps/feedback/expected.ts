// The default check of a task made from feedback: the expected answer as a whole token. An
// unanchored substring would pass "The answer is 120." for `12`, and a regression task that passes
// wrong answers hides the very failure it was made to catch.

/** Scripts written without spaces between words: a word boundary cannot be asked of them. */
const UNSPACED = '\\p{scx=Han}\\p{scx=Hiragana}\\p{scx=Katakana}\\p{scx=Thai}\\p{scx=Lao}\\p{scx=Khmer}\\p{scx=Myanmar}';
const SPACED_LETTER = `(?![${UNSPACED}])[\\p{L}\\p{M}_]`;
/** A character that would continue a word (of a spaced script) or a number. */
const WORD = `(?:${SPACED_LETTER}|\\p{N})`;

/** Before a number: not another digit, a decimal point, a fraction or thousands part, or a minus sign (`-12` is not `12`). */
const BEFORE_NUMBER = `(?<!${WORD}|\\.|\\p{N}[,/]|(?:^|[^\\p{L}\\p{N}])[-−])`;
/** After a number: not more digits, decimals, a fraction, an exponent or a spaced thousands group. Units may follow (`12 km`, `12kg`). */
const AFTER_NUMBER = '(?!\\p{N}|[.,]\\p{N}|/\\p{N}|[eE][-+]?\\p{N}|[\\u00a0\\u2009\\u202f]\\p{N}{3}(?!\\p{N}))';

/** Ways a number of four or more digits is written: `12000`, `12,000`, `12 000` (also no-break and thin spaces, as regex escapes). */
const THOUSANDS_SEPARATORS = [',', ' ', '\\u00a0', '\\u2009', '\\u202f'];
const NUMBER = /^([-−]?)(\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+|\d+)(\.\d+)?$/u;

/** Flags the pattern needs: case-insensitive, and `u` for the Unicode classes. */
export const EXPECTED_FLAGS = 'iu';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The text that decides: surrounding quotes and markdown emphasis and trailing sentence punctuation
 * are how the reporter wrote it, not part of the answer ("12." expects 12).
 */
export function answerCore(expected: string): string {
  let core = expected.normalize('NFC').trim();
  for (let previous = ''; previous !== core; ) {
    previous = core;
    core = core.replace(/^[*_`"'“”‘’]+|[*_`"'“”‘’]+$/gu, '').replace(/[.!?;:,。！？]+$/u, '').trim();
  }
  return core === '' ? expected.trim() : core;
}

/** One character as the answer may spell it: composed or decomposed, straight or curly apostrophe. */
function charPattern(c: string): string {
  if (c === "'" || c === '’' || c === '‘') return "['‘’]";
  const decomposed = c.normalize('NFD');
  return decomposed === c ? escapeRegex(c) : `(?:${escapeRegex(c)}|${escapeRegex(decomposed)})`;
}

function textPattern(text: string): string {
  return text
    .split(/(\s+)/u)
    .map((part) => (/^\s+$/u.test(part) ? '\\s+' : [...part].map(charPattern).join('')))
    .join('');
}

function numberPattern(match: RegExpMatchArray): string {
  const [, minus = '', whole = '', fraction = ''] = match;
  const digits = whole.replace(/\D/g, '');
  // A leading zero (`0123`) is a code, not a quantity: written only as given.
  const body = digits.length < 4 || digits.startsWith('0') ? escapeRegex(whole) : `(?:${[digits, ...THOUSANDS_SEPARATORS.map((s) => digits.replace(/\B(?=(\d{3})+$)/g, s))].join('|')})`;
  return `${minus ? '[-−]' : ''}${body}${escapeRegex(fraction)}`;
}

/**
 * A regular expression (with `EXPECTED_FLAGS`) that matches `expected` as a whole token inside an
 * answer: a number not run into other digits, decimals or a minus sign; a word not run into other
 * letters (in scripts that separate words with spaces). Regex specials are literal, whitespace
 * runs match any whitespace, and a number of four or more digits matches with or without
 * thousands separators.
 */
export function expectedAnswerPattern(expected: string): string {
  const core = answerCore(expected);
  const number = core.match(NUMBER);
  const body = number ? numberPattern(number) : textPattern(core);
  const chars = [...core];
  const first = /^[-−+]?\.?\p{N}/u.test(core) ? 'number' : kindOf(chars[0]);
  const last = kindOf(chars.at(-1));
  const before = first === 'number' ? BEFORE_NUMBER : first === 'word' ? `(?<!${WORD})` : '';
  const after = last === 'number' ? AFTER_NUMBER : last === 'word' ? `(?!${WORD})` : '';
  return `${before}${body}${after}`;
}

function kindOf(c: string | undefined): 'number' | 'word' | 'other' {
  if (c === undefined) return 'other';
  if (/\p{N}/u.test(c)) return 'number';
  return new RegExp(`^${SPACED_LETTER}$`, 'u').test(c) ? 'word' : 'other';
}
