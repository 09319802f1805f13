// Which SQLite files Gauntlet takes as a store: an empty one (it becomes a store) or one Gauntlet
// wrote. Another application's database given as --store is refused before anything is written:
// adding our tables to it, or writing our rows into a table that shares a name with ours, would
// change a file that is not ours, and reading it would report its tables as runs.
import Database from 'better-sqlite3';
import { InputError } from '../core/index.ts';
import { migrate, type StoreMigration } from './migrations.ts';

/** What a SQLite file holds, as a store: nothing yet, Gauntlet's tables, or someone else's (and why we think so). */
export type StoreFileKind = { kind: 'empty' } | { kind: 'gauntlet' } | { kind: 'foreign'; problem: string };

/** How many of a foreign file's tables an error names. */
const NAMED_TABLES = 5;

/**
 * Tells what `db` holds. A Gauntlet store has a `meta` table whose `schemaVersion` row holds the
 * store schema version (every Gauntlet since 0.1.0 writes it with the first tables). A file with
 * Gauntlet's tables but no version row is one whose first open stopped between the two in 0.1.0
 * (it wrote them one statement at a time): it is Gauntlet's when every table in it is one of ours,
 * with columns of ours, and its meta table is empty.
 */
export function storeFileKind(db: Database.Database, steps: readonly StoreMigration[]): StoreFileKind {
  const objects = db.prepare(`SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`).all() as { type: string; name: string }[];
  if (objects.length === 0) return { kind: 'empty' };
  const tables = objects.filter((o) => o.type === 'table').map((o) => o.name);
  const meta = tables.includes('meta') && hasColumns(db, 'meta', ['key', 'value']);
  const row = meta ? (db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: unknown } | undefined) : undefined;
  if (row) {
    if (/^[1-9][0-9]*$/.test(String(row.value))) return { kind: 'gauntlet' };
    return { kind: 'foreign', problem: `its meta table's schemaVersion is ${JSON.stringify(row.value)}, which is not a Gauntlet store schema version (a whole number from 1)` };
  }
  if (meta && (db.prepare('SELECT COUNT(*) AS n FROM meta').get() as { n: number }).n === 0 && onlyOurTables(db, tables, steps)) return { kind: 'gauntlet' };
  const named = tables.length > 0 ? tables : objects.map((o) => `${o.type} ${o.name}`);
  const listed = named.slice(0, NAMED_TABLES).join(', ') + (named.length > NAMED_TABLES ? ` and ${named.length - NAMED_TABLES} more` : '');
  return { kind: 'foreign', problem: `it holds ${tables.length > 0 ? `tables (${listed})` : listed} but no Gauntlet schema version (a meta table with a schemaVersion row)` };
}

/** Refuses a file that is neither empty nor a Gauntlet store, naming it and what was found there; nothing is written. */
export function refuseForeignStore(db: Database.Database, path: string, steps: readonly StoreMigration[]): void {
  const found = storeFileKind(db, steps);
  if (found.kind === 'foreign') throw foreignStoreError(path, found.problem);
}

/** The caller's input, not damage: the path given as the store names a file that is not one. */
export function foreignStoreError(path: string, problem: string): InputError {
  return new InputError(
    `store ${path}`,
    `is not a Gauntlet store (another application's database?): ${problem}. It was left as it is`,
    'an empty file or a Gauntlet store: pass --store a new path, or the path of a store Gauntlet wrote',
  );
}

function columnsOf(db: Database.Database, table: string): string[] {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name);
}

function hasColumns(db: Database.Database, table: string, wanted: readonly string[]): boolean {
  const have = new Set(columnsOf(db, table));
  return wanted.every((c) => have.has(c));
}

/** Whether every table is one the steps create, holding only columns they give it. */
function onlyOurTables(db: Database.Database, tables: readonly string[], steps: readonly StoreMigration[]): boolean {
  const layout = new Database(':memory:');
  try {
    migrate(layout, steps);
    return tables.every((table) => {
      const ours = new Set(columnsOf(layout, table));
      return ours.size > 0 && columnsOf(db, table).every((c) => ours.has(c));
    });
  } finally {
    layout.close();
  }
}
