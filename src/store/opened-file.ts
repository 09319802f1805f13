// A store file deleted or replaced while a process writes to it (`rm`, a backup moved into its
// place): SQLite goes on writing to the file it opened, which no path reaches any more, so all of
// it is gone once the process closes it, while the run reports every rollout stored. SQLite also
// leaves that file's -wal and -shm beside the path (it never folds a log into a moved file), and
// the next process to open the file now there reads them as its own: a corrupt database. So a
// writing store notices at its next write, copies what the file it opened holds to a file beside
// the path, and takes its log and index away from there.
import { renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { errorMessage, StoreError } from '../core/index.ts';

/** Device and inode of `file`; null when nothing is there, undefined when it cannot be looked at (a directory made unreadable). */
function identity(file: string): string | null | undefined {
  try {
    const stat = statSync(file, { throwIfNoEntry: false, bigint: true });
    return stat ? `${stat.dev}:${stat.ino}` : null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? null : undefined;
  }
}

/** The files a writing store opened at its path: the database and, once SQLite made them, its log and index. */
export class OpenedFile {
  /** As the caller named it, for messages. */
  private readonly path: string;
  /** Where it is, whatever the working directory is by the time it is looked at again. */
  private readonly at: string;
  private readonly file: string | null | undefined;
  private readonly log: string | null | undefined;
  private readonly index: string | null | undefined;

  /** Called just after opening: the files at the path now are the ones the connection has open. */
  constructor(path: string) {
    this.path = path;
    this.at = resolve(path);
    this.file = identity(this.at);
    this.log = identity(`${this.at}-wal`);
    this.index = identity(`${this.at}-shm`);
  }

  /** How the path stopped naming the file opened, or null while it still does (a stat: cheap beside a commit). */
  change(): 'deleted' | 'replaced by another file' | null {
    if (!this.file) return null;
    const now = identity(this.at);
    // What cannot be looked at is not taken for gone: writes fail by themselves if it is.
    if (now === undefined || now === this.file) return null;
    return now === null ? 'deleted' : 'replaced by another file';
  }

  /**
   * What to stop with once the path no longer names the file: everything committed to the file
   * opened (by every connection of this process) is copied next to the path first, and the log
   * and index this process left there are removed, so nothing at the path mistakes them for its own.
   */
  lost(db: Database.Database, change: 'deleted' | 'replaced by another file'): StoreError {
    const saved = this.save(db);
    this.removeOwn(`${this.at}-wal`, this.log);
    this.removeOwn(`${this.at}-shm`, this.index);
    const rest = saved.file
      ? `everything this process had stored is saved in ${saved.file}; resume from there (gauntlet run --resume RUN_ID --store ${saved.file})`
      : `what this process stored since it opened the file could not be saved (${saved.why}) and is lost`;
    return new StoreError(this.path, 'unusable_path', `the file was ${change} while this process was writing to it, so nothing more is written; ${rest}`);
  }

  /** A consistent copy of the file opened (VACUUM INTO reads it through the open connection), beside the path or else in TMPDIR. */
  private save(db: Database.Database): { file: string; why?: undefined } | { file?: undefined; why: string } {
    const name = `${basename(this.path)}.rescued-${process.pid}.db`;
    let why = '';
    for (const file of [`${this.path}.rescued-${process.pid}.db`, join(tmpdir(), name)]) {
      // Other threads of this process (rollout threads) may save too: each copy is whole, and the last one written is the newest.
      const partial = `${file}.partial-${threadId}`;
      try {
        rmSync(partial, { force: true });
        db.prepare('VACUUM INTO ?').run(partial);
        renameSync(partial, file);
        return { file };
      } catch (error) {
        rmSync(partial, { force: true });
        why = `${why}${why ? '; ' : ''}${file}: ${errorMessage(error)}`;
      }
    }
    return { why };
  }

  /** Removes `file` only while it is still the one this process opened, never another process's. */
  private removeOwn(file: string, opened: string | null | undefined): void {
    if (!opened || identity(file) !== opened) return;
    try {
      rmSync(file, { force: true });
    } catch (_error) {
      // Left where it is: the error already says the file is gone, and the copy holds the data.
    }
  }
}
