import { posix } from 'node:path';
import { InputError } from '../core/index.ts';

export const DEFAULT_WORKDIR = '/work';

/**
 * Directories a work dir may not be or sit under: the system the sandbox shows read-only, the
 * in-memory ones it makes itself, and the supervisor's.
 */
const RESERVED = ['/usr', '/etc', '/proc', '/dev', '/sys', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/tmp', '/run', '/boot'];

/** The work dir's path inside the sandbox: `/work` unless another absolute path outside the system dirs is asked for. */
export function resolveWorkdir(workdir: string | undefined): string {
  if (workdir === undefined) return DEFAULT_WORKDIR;
  const expected = 'an absolute, normalised path outside the system directories, such as /app or /work';
  const bad = (problem: string) => new InputError('workdir', `${JSON.stringify(workdir)} ${problem}`, expected);
  if (typeof workdir !== 'string' || workdir.includes('\0')) throw bad('is not a valid path');
  if (!posix.isAbsolute(workdir)) throw bad('is not absolute');
  if (posix.normalize(workdir) !== workdir || (workdir.endsWith('/') && workdir !== '/')) throw bad('is not normalised (no ., .., // or trailing /)');
  if (workdir === '/') throw bad('is the root of the sandbox');
  const system = RESERVED.find((dir) => workdir === dir || workdir.startsWith(`${dir}/`));
  if (system) throw bad(`is ${workdir === system ? '' : 'inside '}the system directory ${system}`);
  return workdir;
}

/**
 * The path of `path` relative to the work dir, normalised, or an error message when it points
 * outside. Accepts relative paths and absolute ones under `workdir` (what the agent sees).
 */
export function relativeToWorkdir(path: string, workdir: string): { ok: true; rel: string } | { ok: false; error: string } {
  if (path.length === 0) return { ok: false, error: 'empty path' };
  if (path.includes('\0')) return { ok: false, error: `path ${JSON.stringify(path)} contains a NUL byte` };
  const absolute = posix.isAbsolute(path) ? posix.normalize(path) : posix.normalize(posix.join(workdir, path));
  // Linux's limits, checked here: the file system's ENAMETOOLONG would name the host's own directory.
  const long = absolute.split('/').find((part) => Buffer.byteLength(part) > NAME_MAX_BYTES);
  if (long !== undefined) return { ok: false, error: `path ${JSON.stringify(shortened(path))} has a name of ${Buffer.byteLength(long)} bytes (at most ${NAME_MAX_BYTES})` };
  if (Buffer.byteLength(absolute) >= PATH_MAX_BYTES) return { ok: false, error: `path ${JSON.stringify(shortened(path))} is ${Buffer.byteLength(absolute)} bytes long (at most ${PATH_MAX_BYTES - 1})` };
  if (absolute === workdir) return { ok: true, rel: '' };
  if (!absolute.startsWith(`${workdir}/`)) {
    return { ok: false, error: `path ${JSON.stringify(path)} is outside the work dir ${workdir}` };
  }
  return { ok: true, rel: absolute.slice(workdir.length + 1).replace(/\/+$/, '') };
}

const NAME_MAX_BYTES = 255;
// Below Linux's 4096, leaving room for the directory the sandbox lives in on its host.
const PATH_MAX_BYTES = 3840;

const shortened = (path: string) => (path.length > 80 ? `${path.slice(0, 60)}…${path.slice(-10)}` : path);

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

/**
 * No room in the sandbox for what was written: the agent filled its disk, and a retry would find
 * it as full. A SandboxPathError, so that tools which tell the agent about its paths tell it this too.
 */
export class SandboxFullError extends SandboxPathError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxFullError';
  }
}
