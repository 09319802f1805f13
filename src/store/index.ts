// Nothing lost: runs, their tasks, rollouts, model calls and events in SQLite, appended as they happen.
export { SqliteStore, openStore, DEFAULT_STORE_PATH, writable, type StoreOptions, type ThreadStoreAccess } from './sqlite-store.ts';
export { STORE_MIGRATIONS, type StoreMigration } from './migrations.ts';
export type { ExpertWork, RunDeletion } from './run-deletion.ts';
export { exportRunJsonl } from './export.ts';
// Numbers JSON cannot hold, kept beside a record's JSON as the store keeps them (for records that travel: queue results, rollout streams).
export { findNonFinite, hasNonFinite, NON_FINITE_KEY, parseWithNonFinite, pathText, restoreTags, type NonFiniteAt, type NonFinitePolicy, type NonFiniteWord, type RecordPath } from './non-finite.ts';
export { CALL_NUMBERS, EVENT_NUMBERS, ROLLOUT_NUMBERS } from './record-numbers.ts';
export { backupStore, checkStore, type BackupReport, type StoreCheck, type StoreCounts } from './backup.ts';
