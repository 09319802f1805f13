// Helpers over a sandbox's files as environment snapshots list them (coding, terminal): parsing the
// `files` list, globs over relative paths, and the invariant that nothing else was touched.
import type { JsonObject, JsonValue } from '../core/index.ts';
import type { CheckOutput } from './define.ts';

/** One entry of a snapshot's `files` list: a path and a hash, plus whatever else was recorded. */
export type SnapshotEntry = JsonObject & { path: string; sha256: string };

/** The entries of a snapshot's `files` list that have a path and a hash, keyed by path. */
export function snapshotEntries(snapshot: JsonObject): Map<string, SnapshotEntry> {
  const out = new Map<string, SnapshotEntry>();
  const list = snapshot.files;
  if (!Array.isArray(list)) return out;
  for (const item of list as JsonValue[]) {
    if (item && typeof item === 'object' && !Array.isArray(item) && typeof item.path === 'string' && typeof item.sha256 === 'string') {
      out.set(item.path, item as SnapshotEntry);
    }
  }
  return out;
}

/** Shell-style glob over relative paths: `*` within a segment, `**` across segments, `?` one char. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(path));
}

/**
 * The `files_unchanged_except` invariant: every file not matched by `except` keeps its hash, and a
 * new file may appear only where `except` or `allowNew` matches.
 */
export function filesUnchangedExcept(initial: JsonObject, final: JsonObject, globs: { except: readonly string[]; allowNew: readonly string[] }): CheckOutput {
  const { except, allowNew } = globs;
  const before = snapshotEntries(initial);
  const after = snapshotEntries(final);
  const problems: string[] = [];
  for (const [path, file] of before) {
    if (matchesAny(path, except)) continue;
    const now = after.get(path);
    if (!now) problems.push(`${path} was removed`);
    else if (now.sha256 !== file.sha256) problems.push(`${path} was changed`);
  }
  for (const path of after.keys()) {
    if (!before.has(path) && !matchesAny(path, [...except, ...allowNew])) problems.push(`${path} is new`);
  }
  return problems.length === 0 ? { passed: true } : { passed: false, detail: `${problems.length} unexpected: ${problems.slice(0, 8).join('; ')}` };
}
