// Lenient text matching for verifiers: case, spacing and dash style never matter, and a keyword may
// list alternatives ("2pm|14:00") so several wordings of the same fact pass. Invisible characters
// never hide a word (see visibleText), nor do spaces or dashes inside a long number.
import { visibleText } from '../text.ts';

export function normaliseText(text: string): string {
  return visibleText(text)
    .toLowerCase()
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Whether `text` mentions `keyword` (or one of its `|` alternatives) as a whole token: "june 2"
 * matches "June 2," but not "June 21", and "4" does not match "14".
 */
export function mentions(text: string, keyword: string): boolean {
  const haystack = normaliseText(text);
  let joined: string | undefined;
  return keyword.split('|').some((alt) => {
    const needle = normaliseText(alt);
    if (!needle) return false;
    const start = /^[a-z0-9]/.test(needle) ? '(?<![a-z0-9])' : '';
    const end = /[a-z0-9]$/.test(needle) ? '(?![a-z0-9])' : '';
    const pattern = new RegExp(`${start}${escapeRegExp(needle)}${end}`);
    if (pattern.test(haystack)) return true;
    // An account or phone number reads the same grouped: "7301 9944" and "7301-9944" mention 73019944.
    if (!LONG_NUMBER.test(needle)) return false;
    joined ??= haystack.replace(/(?<=\d)[\s.-]+(?=\d)/g, '');
    return pattern.test(joined);
  });
}

/** Numbers of six digits or more: grouped, they are still one number (shorter ones, "12 30", may be two). */
const LONG_NUMBER = /^\d{6,}$/;

/** Keywords from `keywords` that `text` does not mention. */
export function missingKeywords(text: string, keywords: readonly string[]): string[] {
  return keywords.filter((k) => !mentions(text, k));
}

/** Keywords from `keywords` that `text` does mention. */
export function presentKeywords(text: string, keywords: readonly string[]): string[] {
  return keywords.filter((k) => mentions(text, k));
}

/** A subject without Re:/Fwd: prefixes, for comparing a reply's subject with the original's. */
export function baseSubject(subject: string): string {
  return normaliseText(subject).replace(/^((re|fwd?|aw|sv)\s*:\s*)+/g, '').trim();
}

/** Digits only, for comparing phone numbers written differently. */
export function digits(text: string): string {
  return text.replace(/\D/g, '');
}
