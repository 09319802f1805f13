import type Database from 'better-sqlite3';
import type { JsonObject, JsonValue } from '../core/index.ts';

/** A user table and the columns `SELECT *` returns for it. */
export interface TableShape {
  name: string;
  columns: string[];
}

function selectAll(db: Database.Database, table: string): Database.Statement {
  return db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`);
}

/** The user tables of a database, sorted by name: what dumpTables pictures. */
export function tableShapes(db: Database.Database): TableShape[] {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
  return tables.map(({ name }) => ({ name, columns: selectAll(db, name).columns().map((c) => c.name) }));
}

/**
 * Every user table as an array of rows ordered by rowid: a deterministic picture of the state.
 * `tables` (as tableShapes gives them) saves reading the schema when the caller knows it.
 */
export function dumpTables(db: Database.Database, tables: readonly TableShape[] = tableShapes(db)): JsonObject {
  const out: JsonObject = {};
  for (const table of tables) out[table.name] = tableRows(db, table);
  return out;
}

/** A table's rows as objects keyed by column, built from raw rows (a fifth cheaper than better-sqlite3's objects). */
function tableRows(db: Database.Database, { name, columns }: TableShape): JsonObject[] {
  const statement = selectAll(db, name);
  // Raw mode only for this read: the statement is shared through the database's cache.
  let raw: JsonValue[][];
  try {
    raw = statement.raw(true).all() as JsonValue[][];
  } finally {
    statement.raw(false);
  }
  return raw.map((values) => {
    const row: JsonObject = {};
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i]!;
    return row;
  });
}

/**
 * Where the state stands: SQLite's count of rows written on this connection (rolled-back writes
 * included, so it errs towards "changed") and its schema version. Equal versions mean dumpTables
 * would return the same picture.
 */
export interface StateVersion {
  changes: number;
  schema: number;
}

export function stateVersion(db: Database.Database): StateVersion {
  // One statement, not two: each compiles anew on every episode's connection. It comes from the
  // database's shared cache, so it stays in the default (object) mode.
  return db.prepare('SELECT total_changes() AS changes, (SELECT schema_version FROM pragma_schema_version) AS schema').get() as StateVersion;
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
  const diff: TableDiff = { added: [], removed: [], changed: [] };
  // Snapshots taken with no write in between share their row arrays.
  if (rowsOf(before, table) === rowsOf(after, table)) return diff;
  const beforeRows = new Map(rowsOf(before, table).map((r) => [String(r[key]), r]));
  const afterRows = new Map(rowsOf(after, table).map((r) => [String(r[key]), r]));
  for (const [k, row] of afterRows) {
    const old = beforeRows.get(k);
    if (!old) diff.added.push(row);
    else if (old !== row && JSON.stringify(old) !== JSON.stringify(row)) diff.changed.push({ before: old, after: row });
  }
  for (const [k, row] of beforeRows) if (!afterRows.has(k)) diff.removed.push(row);
  return diff;
}
