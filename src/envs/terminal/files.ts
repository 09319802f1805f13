// Helpers over the sandbox's paths and file text, for the terminal tools and checks.
import { globToRegExp as pathGlobToRegExp } from '../sandbox-files.ts';

/** `./a/b`, `/work/a/b` and `a/b` all name the same file. */
export function normalisePath(path: string, workdir = '/work'): string {
  let p = path.trim();
  if (p.startsWith(`${workdir}/`)) p = p.slice(workdir.length + 1);
  while (p.startsWith('./')) p = p.slice(2);
  return p.replace(/\/{2,}/g, '/').replace(/\/$/, '');
}

/** A glob over relative paths, written as a path may be (`./docs/*.md`, `/work/docs/*.md`). */
export function globToRegExp(glob: string): RegExp {
  return pathGlobToRegExp(normalisePath(glob));
}

/** Text normalisations a check may ask for, so equivalent answers compare equal. */
export interface TextNormalisation {
  normalizeWhitespace?: boolean;
  sortLines?: boolean;
  ignoreBlankLines?: boolean;
  ignoreCase?: boolean;
}

export function normaliseText(text: string, how: TextNormalisation): string {
  let lines = text.replace(/\r\n/g, '\n').split('\n');
  if (how.normalizeWhitespace) lines = lines.map((l) => l.trim().replace(/\s+/g, ' '));
  else lines = lines.map((l) => l.replace(/\s+$/, ''));
  if (how.ignoreBlankLines) lines = lines.filter((l) => l.trim() !== '');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (how.sortLines) lines.sort();
  const joined = lines.join('\n');
  return how.ignoreCase ? joined.toLowerCase() : joined;
}

/** First differing line, for a check's detail. */
export function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) return `line ${i + 1}: expected ${JSON.stringify(e[i] ?? '(end of file)')}, found ${JSON.stringify(a[i] ?? '(end of file)')}`;
  }
  return 'identical';
}

/** Value at a dotted path (`a.b.0.c`) in parsed JSON; `found` is false when a step is missing. */
export function valueAt(root: unknown, path: string): { found: boolean; value?: unknown } {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(key) && Number(key) < current.length) current = current[Number(key)];
    else if (current !== null && typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key];
    } else return { found: false };
  }
  return { found: true, value: current };
}
