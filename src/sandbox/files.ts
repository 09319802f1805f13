// File access to a sandbox's work dir from outside the sandbox, shared by both backends. Paths are
// walked one component at a time so neither `..` nor a symlink planted by a command can lead out.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileEntry } from '../core/index.ts';
import { requireRelative, SandboxFullError, SandboxPathError } from './paths.ts';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** The few file-system calls the walk needs; each backend maps them onto its own store. */
export interface FsAdapter {
  /** null when nothing is there. */
  kind(path: string): Promise<EntryKind | null>;
  /** null when the path (or a symlink on it) leads nowhere. */
  realpath(path: string): Promise<string | null>;
  mkdir(path: string): Promise<void>;
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  writeText(path: string, content: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

/** Whether `error` is a file system out of room (a full disk or quota). */
function isNoRoom(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class WorkdirFiles {
  constructor(
    private readonly fs: FsAdapter,
    /** Where the work dir is in the adapter's namespace (a host temp dir, or /work in memory); no symlinks in it. */
    private readonly root: string,
    /** The work dir as commands see it; paths the agent gives are relative to it or absolute under it. */
    private readonly workdir: string,
  ) {}

  private inside(real: string): boolean {
    return real === this.root || real.startsWith(`${this.root}/`);
  }

  private async follow(path: string, original: string, operation: string): Promise<string | null> {
    const real = await this.fs.realpath(path);
    if (real === null) return null;
    if (!this.inside(real)) throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(original)} leads outside the work dir through a symlink`);
    return real;
  }

  /** The parent directory of `rel` with symlinks resolved, creating missing directories when asked. */
  private async parentOf(rel: string, original: string, operation: string, create: boolean): Promise<string | null> {
    const parts = rel.split('/');
    parts.pop();
    let current = this.root;
    for (const part of parts) {
      const next = `${current}/${part}`;
      const kind = await this.fs.kind(next);
      if (kind === null) {
        if (!create) return null;
        await this.fs.mkdir(next);
        current = next;
      } else if (kind === 'symlink') {
        const real = await this.follow(next, original, operation);
        if (real === null) {
          if (create) throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(original)}: ${part} is a dangling symlink`);
          return null;
        }
        if ((await this.fs.kind(real)) !== 'dir') throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(original)}: ${part} is not a directory`);
        current = real;
      } else if (kind === 'dir') current = next;
      else throw new SandboxPathError(`sandbox ${operation}: ${JSON.stringify(original)}: ${part} is not a directory`);
    }
    return current;
  }

  async read(path: string): Promise<string | null> {
    const rel = requireRelative(path, this.workdir, 'readFile');
    const parent = await this.parentOf(rel, path, 'readFile', false);
    if (parent === null) return null;
    let target: string | null = `${parent}/${posix.basename(rel)}`;
    const kind = await this.fs.kind(target);
    if (kind === 'symlink') target = await this.follow(target, path, 'readFile');
    else if (kind !== 'file') return null;
    if (target === null || (await this.fs.kind(target)) !== 'file') return null;
    return this.fs.readText(target);
  }

  async write(path: string, content: string): Promise<void> {
    try {
      await this.writeInWorkdir(path, content);
    } catch (error) {
      if (!isNoRoom(error)) throw error;
      throw new SandboxFullError(`sandbox writeFile: ${path}: No space left on device (its ${Buffer.byteLength(content)} bytes do not fit in the sandbox's disk limit)`);
    }
  }

  private async writeInWorkdir(path: string, content: string): Promise<void> {
    const rel = requireRelative(path, this.workdir, 'writeFile');
    const parent = await this.parentOf(rel, path, 'writeFile', true);
    if (parent === null) throw new SandboxPathError(`sandbox writeFile: ${JSON.stringify(path)}: cannot create its directory`);
    let target = `${parent}/${posix.basename(rel)}`;
    const kind = await this.fs.kind(target);
    if (kind === 'symlink') {
      const real = await this.follow(target, path, 'writeFile');
      if (real === null) throw new SandboxPathError(`sandbox writeFile: ${JSON.stringify(path)} is a dangling symlink`);
      target = real;
    }
    if (kind === 'dir') throw new SandboxPathError(`sandbox writeFile: ${JSON.stringify(path)} is a directory`);
    await this.fs.writeText(target, content);
  }

  /** Regular files with their hash; symlinks as entries hashed by target, never followed. */
  async list(): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const name of (await this.fs.readdir(dir)).sort()) {
        const full = `${dir}/${name}`;
        const path = prefix ? `${prefix}/${name}` : name;
        const kind = await this.fs.kind(full);
        if (kind === 'dir') await walk(full, path);
        else if (kind === 'symlink') {
          const target = await this.fs.readlink(full);
          out.push({ path, size: Buffer.byteLength(target), sha256: sha256(`symlink:${target}`) });
        } else if (kind === 'file') {
          const bytes = await this.fs.readBytes(full);
          out.push({ path, size: bytes.length, sha256: sha256(bytes) });
        }
        // fifos and sockets hold no content worth tracking
      }
    };
    await walk(this.root, '');
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
