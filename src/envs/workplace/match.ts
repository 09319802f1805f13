// Lenient keyword matching for chat checks, the same rules the mail checks use: case, spacing and
// dash style never matter, keywords match whole tokens, and "a|b" accepts either wording.

export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `text` mentions `keyword` (or one of its `|` alternatives) as a whole token. */
export function mentions(text: string, keyword: string): boolean {
  const haystack = normaliseText(text);
  return keyword.split('|').some((alt) => {
    const needle = normaliseText(alt);
    if (!needle) return false;
    const start = /^[a-z0-9]/.test(needle) ? '(?<![a-z0-9])' : '';
    const end = /[a-z0-9]$/.test(needle) ? '(?![a-z0-9])' : '';
    return new RegExp(`${start}${escapeRegExp(needle)}${end}`).test(haystack);
  });
}

export function missingKeywords(text: string, keywords: readonly string[]): string[] {
  return keywords.filter((k) => !mentions(text, k));
}

export function presentKeywords(text: string, keywords: readonly string[]): string[] {
  return keywords.filter((k) => mentions(text, k));
}
