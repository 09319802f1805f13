// File access to a sandbox's work dir from outside the sandbox, shared by both backends. Paths are
// walked one component at a time so neither `..` nor a symlink planted by a command can lead out.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { InputError, type FileEntry, type ReadFileOptions } from '../core/index.ts';
import { requireRelative, SandboxFullError, SandboxPathError } from './paths.ts';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'other';

/** The few file-system calls the walk needs; each backend maps them onto its own store. */
export interface FsAdapter {
  /** null when nothing is there. */
  kind(path: string): Promise<EntryKind | null>;
  /** null when the path (or a symlink on it) leads nowhere. */
  realpath(path: string): Promise<string | null>;
  mkdir(path: string): Promise<void>;
  /**
   * The file as text. Given `maxBytes`, a file of more bytes is refused with FileTooLargeError
   * (naming any path: WorkdirFiles names it again as the agent gave it), having read no more than
   * `maxBytes` + 1 of them.
   */
  readText(path: string, maxBytes?: number): Promise<string>;
  /** A regular file's size and SHA-256, for listings: an adapter may read it a piece at a time rather than whole. */
  digest(path: string): Promise<FileDigest>;
  writeText(path: string, content: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

/** Whether `error` is a file system out of room (a full disk or quota). */
function isNoRoom(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * A read given `maxBytes` (ReadFileOptions) found a larger file: refused, having brought no more
 * than the bound (and a byte) of it into memory. Not the agent's doing (the bound is its caller's
 * setting), so not a SandboxPathError.
 */
export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    /** The bound the read was given. */
    readonly maxBytes: number,
    /** The file's size where it was learned; undefined when the file was only seen to pass the bound (it grew as it was read). */
    readonly sizeBytes?: number,
  ) {
    super(`sandbox readFile: ${JSON.stringify(path)} is ${sizeBytes === undefined ? `more than ${maxBytes}` : sizeBytes} bytes, over the ${maxBytes} this read may take`);
    this.name = 'FileTooLargeError';
  }
}

/** What `readAtMost` needs of an open file (node's FileHandle has it). */
export interface OpenFile {
  stat(): Promise<{ size: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** The first buffer of a read: the file's size and a byte, or this much when it says 0 (a file whose size says nothing). */
const FIRST_READ_BYTES = 64 * 1024;

/**
 * The bytes of a file held open, or FileTooLargeError past `maxBytes`. Its size (of the file held,
 * so nothing can be swapped in between) refuses a larger one unread; the read itself stops one byte
 * past the bound, so a file that grows after that look is refused as well, never read whole.
 */
export async function readAtMost(file: OpenFile, maxBytes: number, path: string): Promise<Buffer> {
  const { size } = await file.stat();
  if (size > maxBytes) throw new FileTooLargeError(path, maxBytes, size);
  // The byte past the bound, when it comes, proves the file grew past it.
  const most = maxBytes + 1;
  let buffer = Buffer.allocUnsafe(Math.min(most, Math.max(size + 1, FIRST_READ_BYTES)));
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length >= most) break;
      const grown = Buffer.allocUnsafe(Math.min(most, 2 * length));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  if (length > maxBytes) throw new FileTooLargeError(path, maxBytes);
  return buffer.subarray(0, length);
}

/** `maxBytes` as a read takes it: a whole number of bytes, or undefined for no bound. */
export function readBound(options: ReadFileOptions): number | undefined {
  const { maxBytes } = options;
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new InputError('sandbox readFile maxBytes', `got ${maxBytes}`, 'a whole number of bytes from 0 upwards');
  }
  return maxBytes;
}

export interface FileDigest {
  size: number;
  sha256: string;
}

/** The size and hash of bytes already in memory. */
export function digestOf(bytes: Uint8Array): FileDigest {
  return { size: bytes.length, sha256: sha256(bytes) };
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

  async read(path: string, options: ReadFileOptions = {}): Promise<string | null> {
    const maxBytes = readBound(options);
    const rel = requireRelative(path, this.workdir, 'readFile');
    const parent = await this.parentOf(rel, path, 'readFile', false);
    if (parent === null) return null;
    let target: string | null = `${parent}/${posix.basename(rel)}`;
    const kind = await this.fs.kind(target);
    if (kind === 'symlink') target = await this.follow(target, path, 'readFile');
    else if (kind !== 'file') return null;
    if (target === null || (await this.fs.kind(target)) !== 'file') return null;
    if (maxBytes === undefined) return this.fs.readText(target);
    try {
      return await this.fs.readText(target, maxBytes);
    } catch (error) {
      // Named as the agent gave it: the adapter's path may be the host's.
      if (error instanceof FileTooLargeError) throw new FileTooLargeError(path, error.maxBytes, error.sizeBytes);
      throw error;
    }
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
          out.push({ path, ...(await this.fs.digest(full)) });
        }
        // fifos and sockets hold no content worth tracking
      }
    };
    await walk(this.root, '');
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
