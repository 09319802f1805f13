import { posix } from 'node:path';

/**
 * The path of `path` relative to the work dir, normalised, or an error message when it points
 * outside. Accepts relative paths and absolute ones under `workdir` (what the agent sees).
 */
export function relativeToWorkdir(path: string, workdir: string): { ok: true; rel: string } | { ok: false; error: string } {
  if (path.length === 0) return { ok: false, error: 'empty path' };
  if (path.includes('\0')) return { ok: false, error: `path ${JSON.stringify(path)} contains a NUL byte` };
  const absolute = posix.isAbsolute(path) ? posix.normalize(path) : posix.normalize(posix.join(workdir, path));
  if (absolute === workdir) return { ok: true, rel: '' };
  if (!absolute.startsWith(`${workdir}/`)) {
    return { ok: false, error: `path ${JSON.stringify(path)} is outside the work dir ${workdir}` };
  }
  return { ok: true, rel: absolute.slice(workdir.length + 1).replace(/\/+$/, '') };
}

/** Like `relativeToWorkdir` but throws: for the Sandbox interface, whose callers validate first. */
export function requireRelative(path: string, workdir: string, operation: string): string {
  const result = relativeToWorkdir(path, workdir);
  if (!result.ok) throw new SandboxPathError(`sandbox ${operation}: ${result.error}`);
  if (result.rel === '') throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(path)} is the work dir itself, not a file`);
  return result.rel;
}

/** A path that would reach outside the work dir (directly, via `..`, or through a symlink). */
export class SandboxPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxPathError';
  }
}
