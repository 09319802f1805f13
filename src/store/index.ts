// Nothing lost: runs, their tasks, rollouts, model calls and events in SQLite, appended as they happen.
export { SqliteStore, openStore, DEFAULT_STORE_PATH, writable, type StoreOptions, type ThreadStoreAccess } from './sqlite-store.ts';
export { STORE_MIGRATIONS, type StoreMigration } from './migrations.ts';
export { exportRunJsonl } from './export.ts';
