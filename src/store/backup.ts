// Copying a store while runs write to it, and checking a store file. A plain `cp` of a store in
// use can catch the file between a transaction's pages, or miss what still sits in its
// write-ahead log; `VACUUM INTO` reads one consistent snapshot through SQLite instead (writers
// in WAL mode go on meanwhile) and writes it compacted. The copy is checked before it takes the
// destination's name, so a backup that exists is one that opens.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InputError, StoreError } from '../core/index.ts';
import { STORE_MIGRATIONS, storedVersion } from './migrations.ts';
import { foreignStoreError, storeFileKind } from './recognise.ts';
import { storeErrorFrom } from './sqlite-errors.ts';

const BUSY_MS = 5000;

/** What a store file holds, counted. */
export interface StoreCounts {
  runs: number;
  rollouts: number;
  modelCalls: number;
  events: number;
}

export interface BackupReport {
  source: string;
  destination: string;
  /** Size of the copy (free pages are not copied). */
  bytes: number;
  /** The store schema version of the copy: the source's, unchanged. */
  schemaVersion: number;
  counts: StoreCounts;
  /** SQLite's `quick_check` of the copy: always 'ok' in a report (anything else is an error). */
  check: 'ok';
  durationMs: number;
}

export interface StoreCheck {
  path: string;
  ok: boolean;
  schemaVersion: number;
  /** The newest schema this Gauntlet writes; an older store is migrated when a command writes to it. */
  currentSchemaVersion: number;
  bytes: number;
  freeBytes: number;
  /** Null when the file is too damaged to count its rows. */
  counts: StoreCounts | null;
  /** `integrity_check` (full) or `quick_check`. */
  sqliteCheck: 'integrity_check' | 'quick_check';
  /** One line per problem found; empty when `ok`. */
  problems: string[];
}

/**
 * Copies the store at `source` to `destination` as one consistent snapshot, even while other
 * processes write to it. The copy is written beside the destination under a temporary name,
 * checked, flushed to disk and then renamed, so `destination` is either the whole checked copy or
 * absent (or, with `overwrite`, the file that was there before).
 */
export function backupStore(source: string, destination: string, options: { overwrite?: boolean; now?: () => number } = {}): BackupReport {
  const now = options.now ?? Date.now;
  const started = now();
  const from = resolve(source);
  const to = resolve(destination);
  if (from === to) throw new StoreError(destination, 'unusable_path', 'is the store being copied; name another file for the backup');
  if (existsSync(to)) {
    if (!options.overwrite) throw new StoreError(destination, 'unusable_path', 'a file is already there; name a new file, or pass --overwrite to replace it');
    if (!statSync(to).isFile()) throw new StoreError(destination, 'unusable_path', 'is not a regular file; name a file for the backup');
  }
  const db = openToCopy(source);
  // A dated backup folder need not exist yet, as a store's own folder need not.
  try {
    mkdirSync(dirname(to), { recursive: true });
  } catch (error) {
    db.close();
    throw storeErrorFrom(destination, error, 'creating its directory');
  }
  const partial = join(dirname(to), `.${basename(to)}.partial-${process.pid}`);
  try {
    try {
      db.prepare('VACUUM INTO ?').run(partial);
    } catch (error) {
      throw storeErrorFrom(destination, error, `writing the backup of ${source}`);
    }
  } finally {
    db.close();
  }
  try {
    const copy = openReadOnly(partial, destination);
    let counts: StoreCounts;
    let schemaVersion: number;
    try {
      const check = copy.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') throw new StoreError(destination, 'corrupt', `the copy failed SQLite's quick_check (${check}); the source may be damaged: run \`gauntlet store check --store ${source} --full\``);
      schemaVersion = storedVersion(copy);
      counts = countRecords(copy);
    } finally {
      copy.close();
    }
    flushToDisk(partial);
    renameSync(partial, to);
    flushToDisk(dirname(to));
    return { source, destination, bytes: statSync(to).size, schemaVersion, counts, check: 'ok', durationMs: Math.max(0, now() - started) };
  } finally {
    rmSync(partial, { force: true });
  }
}

/**
 * Checks a store file without writing to it: SQLite's own check of every page (`full`) or the
 * faster one that skips index contents, the schema version, and the links between Gauntlet's
 * tables (a rollout, model call or event whose run is gone; a run's task whose text is gone).
 */
export function checkStore(path: string, options: { full?: boolean } = {}): StoreCheck {
  const db = openToCopy(path);
  try {
    const sqliteCheck = options.full ? 'integrity_check' : 'quick_check';
    let problems: string[];
    try {
      problems = (db.pragma(`${sqliteCheck}(100)`) as { [key: string]: string }[]).map((row) => Object.values(row)[0] ?? '').filter((line) => line !== 'ok');
    } catch (error) {
      // Damage bad enough that SQLite stops checking is still a finding, not a failure to check.
      if (!/^SQLITE_(CORRUPT|NOTADB)/.test((error as { code?: string }).code ?? '')) throw storeErrorFrom(path, error, `running SQLite's ${sqliteCheck}`);
      problems = [`SQLite stopped its ${sqliteCheck}: ${(error as Error).message}`];
    }
    const schemaVersion = storedVersion(db);
    const currentSchemaVersion = Math.max(...STORE_MIGRATIONS.map((step) => step.version));
    if (schemaVersion > currentSchemaVersion) problems.push(`store schema ${schemaVersion} is newer than this Gauntlet's (${currentSchemaVersion}): check it with the Gauntlet that wrote it`);
    // Links are only meaningful in a file whose pages hold together.
    if (problems.length === 0) problems.push(...brokenLinks(db));
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    let counts: StoreCounts | null = null;
    try {
      counts = countRecords(db);
    } catch (error) {
      if (problems.length === 0) throw storeErrorFrom(path, error, 'counting its records');
    }
    return { path, ok: problems.length === 0, schemaVersion, currentSchemaVersion, bytes: pages * pageSize, freeBytes: free * pageSize, counts, sqliteCheck, problems };
  } finally {
    db.close();
  }
}

/** A connection that only reads the source, seeing what other processes committed, the log included. */
function openToCopy(path: string): Database.Database {
  if (!existsSync(path)) throw new StoreError(path, 'unusable_path', 'no store file there');
  if (!statSync(path).isFile()) throw new StoreError(path, 'unusable_path', 'is not a regular file');
  const db = openReadOnly(path, path);
  try {
    // A file that is not a database fails here, at the first read, rather than halfway through the copy.
    const found = storeFileKind(db, STORE_MIGRATIONS);
    if (found.kind === 'empty') throw new StoreError(path, 'corrupt', 'is an empty SQLite database, not a Gauntlet store (it has no tables)');
    // Another application's database would be reported as a store of schema 0 with its tables counted as runs.
    if (found.kind === 'foreign') throw foreignStoreError(path, found.problem);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof InputError) throw error;
    throw storeErrorFrom(path, error, 'reading the store');
  }
}

function openReadOnly(file: string, named: string): Database.Database {
  try {
    return new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_MS });
  } catch (error) {
    throw storeErrorFrom(named, error, 'opening it to read');
  }
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function count(db: Database.Database, table: string): number {
  return tableExists(db, table) ? ((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n) : 0;
}

function countRecords(db: Database.Database): StoreCounts {
  return { runs: count(db, 'runs'), rollouts: count(db, 'rollouts'), modelCalls: count(db, 'model_calls'), events: count(db, 'events') };
}

/** Rows whose run (or task text) is missing: what deleting part of a run by hand, or a torn copy, leaves. */
function brokenLinks(db: Database.Database): string[] {
  const problems: string[] = [];
  const orphans = (table: string, what: string) => {
    if (!tableExists(db, table)) return;
    const rows = db.prepare(`SELECT run_id AS runId, COUNT(*) AS n FROM ${table} WHERE run_id NOT IN (SELECT id FROM runs) GROUP BY run_id ORDER BY run_id LIMIT 20`).all() as { runId: string; n: number }[];
    for (const { runId, n } of rows) problems.push(`${n} ${what} of run ${JSON.stringify(runId)}, which has no run record (what a \`gauntlet runs delete\` stopped part-way leaves: deleting the run id again removes them)`);
  };
  orphans('rollouts', 'rollouts');
  orphans('model_calls', 'model calls');
  orphans('events', 'events');
  if (tableExists(db, 'run_tasks') && tableExists(db, 'tasks')) {
    const rows = db.prepare(`SELECT run_id AS runId, task_id AS taskId FROM run_tasks WHERE hash NOT IN (SELECT hash FROM tasks) ORDER BY run_id, position LIMIT 20`).all() as { runId: string; taskId: string }[];
    for (const { runId, taskId } of rows) problems.push(`task ${JSON.stringify(taskId)} of run ${JSON.stringify(runId)} has no stored task text`);
  }
  return problems;
}

/** A rename is only as durable as the file's own bytes and then the directory entry. */
function flushToDisk(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some file systems refuse fsync on a directory; the file's own flush above is what matters most.
    if (!statSync(path).isDirectory()) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
