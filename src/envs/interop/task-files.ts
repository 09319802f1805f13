// Reading a task folder that came from anywhere (a download, an archive). Every file the import
// reads goes through here: a symbolic link is followed only while it stays inside the folder (a
// link to /etc/passwd or ~/.ssh would otherwise be copied into the task file), only regular files
// are read (opening a FIFO or a device blocks or never ends), and how much is read is bounded.
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { InputError } from '../../core/index.ts';

const MiB = 1024 * 1024;
/** One file: nothing larger can travel in a task file. */
export const MAX_TASK_FILE_BYTES = 32 * MiB;
/** Everything one task's import reads. */
export const MAX_TASK_READ_BYTES = 64 * MiB;
/** Entries one task's import lists. */
export const MAX_TASK_FILES = 20_000;

export interface ReadFile {
  bytes: Buffer;
  executable: boolean;
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

export class TaskFolder {
  /** The folder's real path: what "inside" means. */
  private readonly real: string;
  private bytes = 0;
  private listed = 0;

  constructor(readonly root: string) {
    try {
      this.real = realpathSync(root);
    } catch (error) {
      throw new InputError(root, `cannot read the task folder (${codeOf(error)})`);
    }
  }

  /** `path` as messages show it: relative to the task folder. */
  where(path: string): string {
    return relative(this.root, path).split(sep).join('/') || '.';
  }

  /** The real path of `path`, which must lie inside the folder. */
  private resolve(path: string): string {
    let real: string;
    try {
      real = realpathSync(path);
    } catch (error) {
      throw new InputError(this.where(path), `cannot read (${codeOf(error)})`);
    }
    if (real !== this.real && !real.startsWith(`${this.real}${sep}`)) {
      throw new InputError(this.where(path), `is a symbolic link to ${real}, outside the task folder; not read`, 'files inside the task folder');
    }
    return real;
  }

  /** What `path` is once links inside the folder are followed; null when nothing is there. */
  kind(path: string): 'file' | 'directory' | 'other' | null {
    try {
      statSync(path);
    } catch {
      return null;
    }
    const stat = statSync(this.resolve(path));
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other';
  }

  /** A regular file's bytes and executable bit; InputError naming the file for anything else. */
  read(path: string): ReadFile {
    const real = this.resolve(path);
    const where = this.where(path);
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
      fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      throw new InputError(where, `cannot read (${codeOf(error)})`);
    }
    try {
      const stat = fstatSync(fd);
      if (stat.isDirectory()) throw new InputError(where, 'is a directory', 'a file');
      if (!stat.isFile()) throw new InputError(where, 'is not a regular file (a FIFO, socket or device); not read', 'a regular file');
      if (stat.size > MAX_TASK_FILE_BYTES) throw new InputError(where, `is ${(stat.size / MiB).toFixed(1)} MiB`, `at most ${MAX_TASK_FILE_BYTES / MiB} MiB per file`);
      this.bytes += stat.size;
      if (this.bytes > MAX_TASK_READ_BYTES) throw new InputError(where, `the task's files read so far exceed ${MAX_TASK_READ_BYTES / MiB} MiB`, `at most ${MAX_TASK_READ_BYTES / MiB} MiB for one task`);
      return { bytes: readFileSync(fd), executable: (stat.mode & 0o111) !== 0 };
    } finally {
      closeSync(fd);
    }
  }

  /** The file's text; InputError when it is not UTF-8. */
  text(path: string): string {
    const { bytes } = this.read(path);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new InputError(this.where(path), 'is not UTF-8 text');
    }
  }

  /**
   * Everything under `dir` but directories, sorted, recursing into real directories only (a
   * linked directory is not entered, so links cannot loop); `read` judges each entry.
   */
  list(dir: string): string[] {
    const kind = this.kind(dir);
    if (kind === null) return [];
    if (kind !== 'directory') throw new InputError(this.where(dir), 'is not a directory', 'a folder');
    return this.walk(dir);
  }

  private walk(dir: string): string[] {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    this.listed += entries.length;
    if (this.listed > MAX_TASK_FILES) throw new InputError(this.where(dir), `the task folder holds more than ${MAX_TASK_FILES} files`, `at most ${MAX_TASK_FILES} for one task`);
    return entries.flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? this.walk(path) : [path];
    });
  }
}
