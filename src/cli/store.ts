import { existsSync } from 'node:fs';
import { InputError } from '../core/index.ts';
import { configuredSecrets } from '../runner/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import type { CliIo } from './io.ts';

/** The store at `path`, told which configured API keys must never be written into it. */
export function openCliStore(path: string, io: CliIo): SqliteStore {
  return openStore(path, { secrets: configuredSecrets(io.env) });
}

/**
 * The store at `path` for a command that looks at what is stored: a path with no store is refused
 * (a typo would otherwise create an empty store, and folders, and report nothing found).
 */
export function openExistingStore(path: string, io: CliIo): SqliteStore {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new InputError('--store', `no store at ${path}`, 'the path of an existing store: where `gauntlet run` stored its runs (default .gauntlet/gauntlet.db)');
  }
  return openCliStore(path, io);
}
