// Letters that pass for other letters. A tool named `bаsh` with a Cyrillic `а`, or a command spelt
// in fullwidth or mathematical letters, reads as the real thing to a reviewer. Real Russian or
// Greek text is not suspect, so a word is marked only when it mixes scripts; the compatibility
// forms (fullwidth, mathematical, letterlike) have no call in commands and are always marked.

export interface Lookalike {
  /** UTF-16 index of the letter in the text. */
  at: number;
  char: string;
  title: string;
}

/** Scripts whose letters pass for one another's (Latin `a`, Cyrillic `а`, Greek `α`, Lisu `ꓮ`…). Latin first: it wins ties. */
const SCRIPTS: readonly (readonly [name: string, letter: RegExp])[] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
  ['Coptic', /\p{Script=Coptic}/u],
  ['Lisu', /\p{Script=Lisu}/u],
];
/** Any letter of those scripts but Latin: text without one has no mixed word, so most output skips the word scan. */
const NON_LATIN = /[\p{Script=Cyrillic}\p{Script=Greek}\p{Script=Armenian}\p{Script=Cherokee}\p{Script=Coptic}\p{Script=Lisu}]/u;
const WORDS = /[\p{L}\p{M}]+/gu;
/** A cheap first cut at compatibility forms: letters and digits that NFKC changes. */
const COMPAT_CANDIDATES = /(?=\p{Changes_When_NFKC_Casefolded})[\p{L}\p{Nd}]/gu;

const hex = (code: number) => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/** What a compatibility form stands for, or null for an ordinary letter. */
function compatForm(char: string): { kind: string; plain: string } | null {
  const code = char.codePointAt(0)!;
  // Latin-1's ordinal indicators (`1ª`, `nº`) are ordinary Spanish and Portuguese.
  if (code <= 0xff) return null;
  const plain = char.normalize('NFKC');
  if (code >= 0x1d400 && code <= 0x1d7ff) return { kind: 'mathematical', plain };
  if (!/^[A-Za-z0-9]$/.test(plain)) return null;
  return { kind: code >= 0xff00 && code <= 0xffef ? 'fullwidth' : 'compatibility form of', plain };
}

const scriptOf = (char: string) => SCRIPTS.findIndex(([, letter]) => letter.test(char));

/** The letters in a word of several scripts that are not of its main script. */
function mixedLetters(word: string, offset: number, out: Lookalike[]): void {
  const letters: { at: number; char: string; script: number }[] = [];
  const counts = SCRIPTS.map(() => 0);
  let at = offset;
  for (const char of word) {
    const script = scriptOf(char);
    if (script >= 0) {
      letters.push({ at, char, script });
      counts[script]! += 1;
    }
    at += char.length;
  }
  if (counts.filter((n) => n > 0).length < 2) return;
  const main = counts.reduce((best, n, i) => (n > counts[best]! ? i : best), 0);
  for (const letter of letters) {
    if (letter.script === main || compatForm(letter.char)) continue;
    const [name] = SCRIPTS[letter.script]!;
    out.push({ at: letter.at, char: letter.char, title: `${hex(letter.char.codePointAt(0)!)} ${name} letter in a ${SCRIPTS[main]![0]} word: it may pass for a ${SCRIPTS[main]![0]} letter` });
  }
}

/** Look-alike letters in `text`, in order: letters of another script inside a word, and every compatibility form. */
export function findLookalikes(text: string): Lookalike[] {
  const found: Lookalike[] = [];
  for (const match of text.matchAll(COMPAT_CANDIDATES)) {
    const form = compatForm(match[0]);
    if (form) found.push({ at: match.index, char: match[0], title: `${hex(match[0].codePointAt(0)!)} ${form.kind} “${form.plain}”: not the plain letter it looks like` });
  }
  if (NON_LATIN.test(text)) {
    const mixed: Lookalike[] = [];
    for (const match of text.matchAll(WORDS)) if (NON_LATIN.test(match[0])) mixedLetters(match[0], match.index, mixed);
    if (mixed.length) return [...found, ...mixed].sort((a, b) => a.at - b.at);
  }
  return found;
}
