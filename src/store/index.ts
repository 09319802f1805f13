// Nothing lost: runs, rollouts, model calls and events in SQLite, appended as they happen.
export { SqliteStore, openStore, DEFAULT_STORE_PATH, type StoreOptions } from './sqlite-store.ts';
export { exportRunJsonl } from './export.ts';
