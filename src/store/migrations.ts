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

// Small tables stay cheap: rowid-less where the key is the lookup, and no index a query does not use.
const REVIEW_TABLES = `
CREATE TABLE review_labels (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  run_id TEXT NOT NULL,
  rollout_id TEXT NOT NULL,
  other_rollout_id TEXT,
  reviewer TEXT NOT NULL,
  queue_item_id TEXT,
  completes_item INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  json TEXT NOT NULL
);
CREATE INDEX review_labels_by_rollout ON review_labels (rollout_id);
CREATE INDEX review_labels_by_other ON review_labels (other_rollout_id) WHERE other_rollout_id IS NOT NULL;
CREATE INDEX review_labels_by_run ON review_labels (run_id);
CREATE INDEX review_labels_by_item ON review_labels (queue_item_id, reviewer) WHERE queue_item_id IS NOT NULL;
CREATE TABLE review_queues (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  reviewers_per_item INTEGER NOT NULL,
  reservation_ms INTEGER NOT NULL,
  json TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE review_items (
  id TEXT PRIMARY KEY,
  queue_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  rollout_id TEXT NOT NULL,
  json TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX review_items_in_order ON review_items (queue_id, position);
-- One holder per item at a time: the primary key is what keeps two reviewers off the same item.
CREATE TABLE review_reservations (
  item_id TEXT PRIMARY KEY,
  queue_id TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** The old label kinds that are rollout verdicts, as the review module's verdicts. */
const OLD_VERDICTS: Record<string, { verdict: string; reason?: string }> = {
  correct: { verdict: 'accept' },
  incorrect: { verdict: 'reject' },
  unsafe: { verdict: 'unsafe' },
  reward_hack: { verdict: 'reject', reason: 'reward hack' },
};

/**
 * Old labels that judged a whole rollout become verdicts in the review table, written in the
 * review record shape of schema version 2 (frozen here, as migrations are). Step-pinned and other
 * kinds have no faithful verdict form and stay in the old table, which is kept and still read.
 */
function copyVerdictLabels(db: Database.Database): void {
  const rows = db
    .prepare(`SELECT l.id AS id, l.rollout_id AS rollout_id, l.json AS json, r.run_id AS run_id, r.task_id AS task_id FROM labels l JOIN rollouts r ON r.id = l.rollout_id ORDER BY l.id`)
    .all() as { id: string; rollout_id: string; json: string; run_id: string; task_id: string }[];
  const insert = db.prepare(
    `INSERT INTO review_labels (id, kind, run_id, rollout_id, other_rollout_id, reviewer, queue_item_id, completes_item, created_at, json) VALUES (?, 'verdict', ?, ?, NULL, ?, NULL, 0, ?, ?)`,
  );
  for (const row of rows) {
    let old: { modelCallId?: unknown; kind?: unknown; value?: unknown; reviewer?: unknown; createdAt?: unknown };
    try {
      old = JSON.parse(row.json) as typeof old;
    } catch (_error) {
      continue; // unreadable rows stay where they are; the old table reports them on read
    }
    const mapped = typeof old.kind === 'string' ? OLD_VERDICTS[old.kind] : undefined;
    if (!mapped || old.modelCallId !== undefined || typeof old.reviewer !== 'string' || old.reviewer.trim() === '' || typeof old.createdAt !== 'string') continue;
    const note = typeof old.value === 'string' && old.value.trim() !== '' ? old.value : undefined;
    const reason = [mapped.reason, note].filter(Boolean).join(': ') || undefined;
    const id = `lb_migrated_${row.id}`;
    const record = { schemaVersion: 2, id, kind: 'verdict', runId: row.run_id, taskId: row.task_id, rolloutId: row.rollout_id, reviewer: old.reviewer, createdAt: old.createdAt, verdict: mapped.verdict, ...(reason ? { reason } : {}) };
    insert.run(id, row.run_id, row.rollout_id, old.reviewer, old.createdAt, JSON.stringify(record));
  }
}

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
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
      // Events written before records carried versions are version 1. (Objects already there: a
      // store whose version an earlier Gauntlet set back after two processes migrated it at once.)
      if (!columns(db, 'events').has('schema_version')) db.exec(`ALTER TABLE events ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 1`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS tasks (hash TEXT PRIMARY KEY, json TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS run_tasks (
          run_id TEXT NOT NULL,
          position INTEGER NOT NULL,
          task_id TEXT NOT NULL,
          hash TEXT NOT NULL,
          PRIMARY KEY (run_id, position),
          UNIQUE (run_id, task_id)
        );
        CREATE TABLE IF NOT EXISTS run_leases (
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
  {
    version: 3,
    description: 'detector findings stored per rollout attempt',
    up: (db) => db.exec(`CREATE TABLE IF NOT EXISTS detections (rollout_id TEXT NOT NULL, attempt INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (rollout_id, attempt))`),
  },
  {
    version: 4,
    description: 'expert review: append-only labels with history, queues with their items and reservations (verdict-like labels copied from the old labels table)',
    up: (db) => {
      // Tables already there were created, and the labels copied, by one committed application of this step.
      if (tableExists(db, 'review_labels')) return;
      db.exec(REVIEW_TABLES);
      copyVerdictLabels(db);
    },
  },
  {
    version: 5,
    description: "model calls and events indexed by run, and run tasks by task hash, so deleting a run finds its records (an unfinished attempt's too) and the tasks no other run uses without reading every run's",
    up: (db) =>
      db.exec(`CREATE INDEX IF NOT EXISTS calls_by_run ON model_calls (run_id);
        CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id);
        CREATE INDEX IF NOT EXISTS run_tasks_by_hash ON run_tasks (hash);`),
  },
  {
    version: 6,
    description: "rollouts indexed with the outcome columns a run's summary counts, so a run of any size is counted from the index instead of reading every record",
    up: (db) => db.exec(`CREATE INDEX IF NOT EXISTS rollouts_outcomes ON rollouts (run_id, task_id, epoch, status, termination_reason, passed, score)`),
  },
];

/** The version a store file is at after every step; newer files are refused. */
export function latestVersion(steps: readonly StoreMigration[]): number {
  return steps.reduce((max, step) => Math.max(max, step.version), 0);
}

/**
 * Applies every step above the file's version, each with its version bump in one transaction.
 * Returns the steps applied. Each step takes the write lock first and reads the version under
 * it: another process opening the same file at the same moment (two `gauntlet run`s on a fresh
 * store) may have applied it since, and applying it again would fail or set the version back.
 */
export function migrate(db: Database.Database, steps: readonly StoreMigration[]): number[] {
  const versionOf = (): number => {
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  };
  const applied: number[] = [];
  if (storedVersion(db) >= latestVersion(steps)) return applied; // the usual open: no write lock taken
  for (const step of [...steps].sort((a, b) => a.version - b.version)) {
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
      if (versionOf() >= step.version) return;
      step.up(db);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schemaVersion', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(step.version));
      applied.push(step.version);
    }).immediate();
  }
  return applied;
}

export function storedVersion(db: Database.Database): number {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (!hasMeta) return 0;
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}
