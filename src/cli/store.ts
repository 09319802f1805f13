import { existsSync } from 'node:fs';
import { InputError } from '../core/index.ts';
import { configuredSecrets } from '../runner/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import type { CliIo } from './io.ts';

/** Where commands keep runs unless `--store` says otherwise. */
export const DEFAULT_STORE_PATH = '.gauntlet/gauntlet.db';

/** ` --store PATH` for a command line a message suggests, or nothing for the default store. */
export function storeFlag(path: string): string {
  if (path === DEFAULT_STORE_PATH) return '';
  return ` --store ${/^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`}`;
}

/** The store at `path`, told which configured API keys must never be written into it. */
export function openCliStore(path: string, io: CliIo): SqliteStore {
  return openStore(path, { secrets: configuredSecrets(io.env) });
}

/** A path with no store is refused: a typo would otherwise create an empty store, and folders, and report nothing found. */
function refuseMissing(path: string): void {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new InputError('--store', `no store at ${path}`, 'the path of an existing store: where `gauntlet run` stored its runs (default .gauntlet/gauntlet.db)');
  }
}

/** The store at `path` for a command that adds to what is stored (detector findings, a review queue). */
export function openExistingStore(path: string, io: CliIo): SqliteStore {
  refuseMissing(path);
  return openCliStore(path, io);
}

/**
 * The store at `path` for a command that only reads it: nothing in or beside the file is written,
 * so a store Gauntlet may not write is read, and an older one keeps its schema (read through a
 * migrated private copy) for the Gauntlet that wrote it.
 */
export function openStoreToRead(path: string): SqliteStore {
  refuseMissing(path);
  return openStore(path, { readOnly: true });
}
