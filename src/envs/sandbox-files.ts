// Helpers over a sandbox's files as environment snapshots list them (coding, terminal): parsing the
// `files` list, globs over relative paths, the invariant that nothing else was touched, and file
// access whose path problems reach the agent as tool errors.
import type { JsonObject, JsonValue } from '../core/index.ts';
import { SandboxPathError } from '../sandbox/index.ts';
import { ToolError, type CheckOutput } from './define.ts';

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

/**
 * Runs a file tool's sandbox access with the agent's path problems turned into tool errors it can
 * act on: a path leaving the work dir, and one the file system refuses as too long (a name over
 * 255 bytes), which would otherwise crash the tool and end the rollout as our defect.
 */
export async function agentFileAccess<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof SandboxPathError) throw new ToolError(error.message.replace(/^sandbox \w+: /, ''));
    // The error's own message shows the host path of the sandbox: not the agent's to see.
    if ((error as NodeJS.ErrnoException | null)?.code === 'ENAMETOOLONG') {
      throw new ToolError(`path ${JSON.stringify(path.length > 80 ? `${path.slice(0, 80)}…` : path)} (${Buffer.byteLength(path)} bytes) is too long: at most 255 bytes a name and about 4,000 in all`);
    }
    throw error;
  }
}
