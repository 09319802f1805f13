// One clear message per way a store file can be unusable, instead of a raw SQLite error.
import { errorMessage, StoreError } from '../core/index.ts';

interface SqliteLike {
  code?: string;
}

/** SQLite's codes for a write to the file (or its journal) that the operating system refused: not a locking problem. */
const WRITE_ERRORS = new Set(['SQLITE_IOERR_WRITE', 'SQLITE_IOERR_SHORT_WRITE', 'SQLITE_IOERR_FSYNC', 'SQLITE_IOERR_DIR_FSYNC', 'SQLITE_IOERR_TRUNCATE']);

/** Maps an error from opening or writing the store to a StoreError naming the path and the problem. */
export function storeErrorFrom(path: string, error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as SqliteLike | null)?.code ?? '';
  const fsCode = (error as NodeJS.ErrnoException | null)?.code ?? '';
  const cause = { cause: error };
  if (code === 'SQLITE_FULL' || fsCode === 'ENOSPC') return new StoreError(path, 'full', `the disk (or the store's size limit) is full while ${doing}; free space, then resume the run with --resume`, cause);
  if (code.startsWith('SQLITE_READONLY') || fsCode === 'EROFS' || fsCode === 'EACCES' || fsCode === 'EPERM') {
    return new StoreError(path, 'read_only', `cannot write while ${doing}: the file or its directory is read-only`, cause);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreError(path, 'corrupt', 'not a SQLite database, or a corrupt one (move it aside or pass another --store)', cause);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new StoreError(path, 'locked', `locked by another process for too long while ${doing}`, cause);
  if (code.startsWith('SQLITE_CANTOPEN') || fsCode === 'ENOENT' || fsCode === 'ENOTDIR' || fsCode === 'EISDIR') {
    return new StoreError(path, 'unusable_path', `cannot open a database file there (${fsCode || code})`, cause);
  }
  if (WRITE_ERRORS.has(code) || fsCode === 'EFBIG') {
    return new StoreError(path, 'io', `could not write the file while ${doing} (${code || fsCode}): the disk may be full, a file size limit (ulimit -f) reached, or the disk failing; fix that, then resume the run with --resume`, cause);
  }
  if (code.startsWith('SQLITE_IOERR')) return new StoreError(path, 'io', `input/output error while ${doing} (${code}); the file system may not support SQLite's locking`, cause);
  return new StoreError(path, 'io', `${doing} failed: ${errorMessage(error)}`, cause);
}
