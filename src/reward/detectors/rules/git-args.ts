// Reading git's own arguments and replies the way git writes them: which paths a subcommand names,
// which revision a restore takes them from, where those paths land relative to the work dir, and
// which changes a `git status` or `git diff` reply lists.
import type { DetectionContext } from '../context.ts';
import { inWorkdir } from '../files.ts';
import type { GitInvocation } from '../git.ts';
import { resolvePath } from '../shell.ts';
import type { GitAct } from './git-acts.ts';

/** Options of `git restore` whose value is not a path. */
const RESTORE_VALUE_OPTIONS = new Set(['-s', '--source', '--pathspec-from-file']);
/** `git checkout` options that make it something else than a restore of named paths (a new branch, paths from a file). */
export const NOT_A_RESTORE = new Set(['-b', '-B', '--orphan', '--pathspec-from-file']);
/**
 * Words that can only be a revision (`HEAD~3`, `a1b2c3d`, `origin/main`, `HEAD@{1}`): without `--`,
 * `git checkout WORD paths` restores the paths from WORD only when WORD is one; two paths restore from the index.
 */
const REVISION_LIKE = /^(?:(?:HEAD|ORIG_HEAD|FETCH_HEAD)(?:[~^]\d*)*|[\w./-]+[~^]\d*(?:[~^]\d*)*|[0-9a-f]{7,40}|(?:origin|refs)\/\S+)$/;

/**
 * `HEAD@{1}`, `main@{2 days ago}`, `@{-1}`: a word of no white space up to an `@{` whose entry runs
 * to the final `}`. Found with two searches: as a pattern (`^\S*@\{[^}]+\}$`) a word of many `@{`
 * would be rescanned from each of them.
 */
function isReflogEntry(word: string): boolean {
  if (!word.endsWith('}')) return false;
  // The entry's `@{` comes after every other `}`; the first such one leaves the least before it.
  const open = word.indexOf('@{', word.lastIndexOf('}', word.length - 2) + 1);
  return open !== -1 && open + 2 < word.length - 1 && !/\s/.test(word.slice(0, open));
}

const isRevisionLike = (word: string) => REVISION_LIKE.test(word) || isReflogEntry(word);

/** The revision and paths of a restore from another revision (`git checkout REV -- paths`, `git restore --source=REV paths`). */
export function restoredFrom({ sub, rest }: GitInvocation): { revision: string; paths: string[] } | null {
  const separator = rest.indexOf('--');
  if (sub === 'checkout') {
    const operands: string[] = [];
    for (let i = 0; i < (separator === -1 ? rest.length : separator); i++) {
      if (NOT_A_RESTORE.has(rest[i]!)) return null;
      if (!rest[i]!.startsWith('-')) operands.push(rest[i]!);
    }
    const [revision, ...paths] = operands;
    if (revision === undefined) return null;
    if (separator !== -1) return { revision, paths: rest.slice(separator + 1) };
    return paths.length > 0 && isRevisionLike(revision) ? { revision, paths } : null;
  }
  if (sub !== 'restore') return null;
  let revision: string | null = null;
  const paths: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (separator !== -1 && i > separator) paths.push(arg);
    else if (arg === '-s' || arg === '--source') revision = rest[++i] ?? null;
    else if (arg.startsWith('--source=')) revision = arg.slice('--source='.length);
    // `-sHEAD~1`: git takes a short option's value attached.
    else if (/^-s./.test(arg)) revision = arg.slice(2);
    else if (RESTORE_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) paths.push(arg);
  }
  return revision === null ? null : { revision, paths };
}

/** Options of `git rm`, `git mv`, `git stash push` and `git commit` that take a value (never a path). */
const GIT_VALUE_OPTIONS = new Set(['-m', '--message', '--pathspec-from-file', '-F', '--file', '-C', '-c', '--reuse-message', '--reedit-message', '--author', '--date', '-t', '--template', '--fixup', '--squash']);

/** The path operands of a git subcommand: everything after `--`, and every word before it that is not an option or its value. */
export function gitPaths(rest: readonly string[]): string[] {
  const separator = rest.indexOf('--');
  const paths: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (separator !== -1 && i > separator) paths.push(arg);
    else if (i === separator) continue;
    // `-am MSG`: a bundle of short options ending in one that takes a value.
    else if (GIT_VALUE_OPTIONS.has(arg) || /^-[a-zA-Z]*[mFC]$/.test(arg)) i++;
    else if (!arg.startsWith('-')) paths.push(arg);
  }
  return paths;
}

/** A flag given long, or as a letter in a bundle of short options (`-ku`). */
export const short = (rest: readonly string[], letter: string, long: string) => rest.some((a) => a === long || (/^-[a-zA-Z]+$/.test(a) && a.includes(letter)));

/** Where `p` lands relative to the work dir, for a git act. */
export function relOf(p: string, act: GitAct, context: DetectionContext): string | null {
  return inWorkdir(resolvePath(p, act.cwd, context.home), context);
}

/** What git's reply says about a change it listed: staged, untracked. */
interface Listed {
  path: string;
  untracked: boolean;
  staged: boolean;
}

const SECTIONS: [RegExp, 'staged' | 'unstaged' | 'untracked'][] = [
  [/^Changes to be committed:/, 'staged'],
  [/^Changes not staged for commit:/, 'unstaged'],
  [/^Untracked files:/, 'untracked'],
];

/** The changed paths a `git status` (long or short) or `git diff` (patch, --stat, --name-status, --name-only) reply lists. */
export function listedChanges(output: string, nameOnly: boolean): Listed[] {
  const out: Listed[] = [];
  let section: 'staged' | 'unstaged' | 'untracked' | null = null;
  for (const line of output.split('\n')) {
    const heading = SECTIONS.find(([pattern]) => pattern.test(line));
    if (heading) {
      section = heading[1];
      continue;
    }
    let match: RegExpExecArray | null;
    if (section !== null && (match = /^\t(?:(?:modified|new file|deleted|renamed|typechange|copied|both \w+):\s+)?(?:.* -> )?(.+)$/.exec(line))) {
      out.push({ path: match[1]!, untracked: section === 'untracked', staged: section === 'staged' });
    } else if ((match = /^([ MADRCUT?])([ MADRCUT?]) (?:.* -> )?(\S.*)$/.exec(line)) && /[^ ]/.test(match[1]! + match[2]!)) {
      out.push({ path: match[3]!, untracked: match[1] === '?', staged: match[1] !== ' ' && match[1] !== '?' });
    } else if ((match = /^diff --git a\/(\S+) b\//.exec(line) ?? /^ (\S.*?)(?<=\S)\s+\|\s+(?:\d+|Bin)/.exec(line) ?? /^[MADRTC]\d*\t(?:\S+\t)?(\S.*)$/.exec(line))) {
      out.push({ path: match[1]!, untracked: false, staged: false });
    } else if (nameOnly && /^[\w./-]+$/.test(line)) out.push({ path: line, untracked: false, staged: false });
  }
  return out;
}
