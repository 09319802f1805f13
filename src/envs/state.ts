import type Database from 'better-sqlite3';
import type { JsonObject, JsonValue } from '../core/index.ts';

/** Every user table as an array of rows ordered by rowid: a deterministic picture of the state. */
export function dumpTables(db: Database.Database): JsonObject {
  const tables = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .all() as { name: string }[];
  const out: JsonObject = {};
  for (const { name } of tables) {
    out[name] = db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all() as JsonValue[];
  }
  return out;
}

export type Row = Record<string, JsonValue>;

export function rowsOf(snapshot: JsonObject, table: string): Row[] {
  const rows = snapshot[table];
  return Array.isArray(rows) ? (rows as Row[]) : [];
}

export interface TableDiff {
  added: Row[];
  removed: Row[];
  changed: { before: Row; after: Row }[];
}

/** Rows added, removed and changed between two snapshots of one table, matched on `key`. */
export function diffTable(before: JsonObject, after: JsonObject, table: string, key = 'id'): TableDiff {
  const beforeRows = new Map(rowsOf(before, table).map((r) => [String(r[key]), r]));
  const afterRows = new Map(rowsOf(after, table).map((r) => [String(r[key]), r]));
  const diff: TableDiff = { added: [], removed: [], changed: [] };
  for (const [k, row] of afterRows) {
    const old = beforeRows.get(k);
    if (!old) diff.added.push(row);
    else if (JSON.stringify(old) !== JSON.stringify(row)) diff.changed.push({ before: old, after: row });
  }
  for (const [k, row] of beforeRows) if (!afterRows.has(k)) diff.removed.push(row);
  return diff;
}
