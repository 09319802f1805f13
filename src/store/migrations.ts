// Numbered steps that bring a store file's tables to the current layout. Each runs once, in a
// transaction with the version bump, so a crash mid-migration leaves the file as it was.
import type Database from 'better-sqlite3';

export interface StoreMigration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

const V1_TABLES = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL,
  finished_at TEXT,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rollouts (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  status TEXT NOT NULL,
  termination_reason TEXT NOT NULL,
  score REAL,
  passed INTEGER,
  json TEXT NOT NULL,
  UNIQUE (run_id, task_id, epoch)
);
CREATE INDEX IF NOT EXISTS rollouts_by_run ON rollouts (run_id);
CREATE TABLE IF NOT EXISTS model_calls (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  rollout_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  -- request.messages stored as a delta: the first keep messages of the call 'base', then tail.
  messages_base TEXT,
  messages_keep INTEGER NOT NULL,
  messages_tail TEXT NOT NULL,
  wire_messages_base TEXT,
  wire_messages_keep INTEGER NOT NULL DEFAULT 0,
  wire_messages_tail TEXT,
  json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_by_rollout ON model_calls (rollout_id, attempt, idx);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL,
  rollout_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (rollout_id, attempt, seq)
);
CREATE TABLE IF NOT EXISTS labels (
  id TEXT PRIMARY KEY,
  rollout_id TEXT NOT NULL,
  json TEXT NOT NULL
);
`;

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

export const STORE_MIGRATIONS: readonly StoreMigration[] = [
  {
    version: 1,
    description: 'runs, rollouts, model calls (requests as deltas), events and labels',
    up: (db) => db.exec(V1_TABLES),
  },
  {
    version: 2,
    description: 'tasks stored with runs (deduplicated by content hash), run leases, record versions on events, tool lists stored once',
    up: (db) => {
      // Stores written before this step existed may or may not have the column (it was added in place).
      if (!columns(db, 'model_calls').has('tools_from')) db.exec(`ALTER TABLE model_calls ADD COLUMN tools_from TEXT`);
      // Events written before records carried versions are version 1.
      db.exec(`ALTER TABLE events ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 1`);
      db.exec(`
        CREATE TABLE tasks (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
        CREATE TABLE run_tasks (
          run_id TEXT NOT NULL,
          position INTEGER NOT NULL,
          task_id TEXT NOT NULL,
          hash TEXT NOT NULL,
          PRIMARY KEY (run_id, position),
          UNIQUE (run_id, task_id)
        );
        CREATE TABLE run_leases (
          run_id TEXT PRIMARY KEY,
          owner TEXT NOT NULL,
          host TEXT NOT NULL,
          pid INTEGER NOT NULL,
          pid_started TEXT,
          renewed_at INTEGER NOT NULL,
          ttl_ms INTEGER NOT NULL
        );
      `);
    },
  },
];

/** The version a store file is at after every step; newer files are refused. */
export function latestVersion(steps: readonly StoreMigration[]): number {
  return steps.reduce((max, step) => Math.max(max, step.version), 0);
}

/** Applies every step above the file's version, each with its version bump in one transaction. Returns the steps applied. */
export function migrate(db: Database.Database, steps: readonly StoreMigration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string } | undefined;
  const current = row ? Number(row.value) : 0;
  const applied: number[] = [];
  for (const step of [...steps].sort((a, b) => a.version - b.version)) {
    if (step.version <= current) continue;
    db.transaction(() => {
      step.up(db);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schemaVersion', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(step.version));
    })();
    applied.push(step.version);
  }
  return applied;
}

export function storedVersion(db: Database.Database): number {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return 0;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}
