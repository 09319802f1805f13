import { configuredSecrets } from '../runner/index.ts';
import { openStore, type SqliteStore } from '../store/index.ts';
import type { CliIo } from './io.ts';

/** The store at `path`, told which configured API keys must never be written into it. */
export function openCliStore(path: string, io: CliIo): SqliteStore {
  return openStore(path, { secrets: configuredSecrets(io.env) });
}
