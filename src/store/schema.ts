/** Tables of the SQLite store. Records are JSON in `json`/`*_json` columns beside the columns we query on. */
export const STORE_SCHEMA = `
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
  -- the call whose request.tools this call reuses (tools are stored once per change)
  tools_from TEXT,
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
