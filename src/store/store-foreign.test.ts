// Another application's SQLite file given as the store: refused, naming it and what it holds,
// before a byte of it changes, by every way a store is opened. Empty files still become stores,
// and every file a Gauntlet wrote still opens and migrates.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { InputError, StoredDataError } from '../core/index.ts';
import { backupStore, checkStore } from './backup.ts';
import { latestVersion, STORE_MIGRATIONS } from './migrations.ts';
import { openStore } from './sqlite-store.ts';
import { storedSchemaVersion } from './test-support.ts';

const CURRENT = latestVersion(STORE_MIGRATIONS);
const FIXTURE = 'test/fixtures/store/v1.db';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gauntlet-foreign-'));
}

/** A database of another application at `dir`/`name`, built by `sql`. */
function foreign(dir: string, name: string, sql: string): string {
  const path = join(dir, name);
  const db = new Database(path);
  db.exec(sql);
  db.close();
  return path;
}

const WITH_RUNS = `CREATE TABLE runs (run_no INTEGER PRIMARY KEY, label TEXT); CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
  CREATE TABLE sessions (id INTEGER); CREATE TABLE audit (id INTEGER); CREATE TABLE billing (id INTEGER); CREATE TABLE plans (id INTEGER);
  INSERT INTO runs (label) VALUES ('nightly')`;
const UNRELATED = `CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE orders (id INTEGER, customer INTEGER); INSERT INTO customers (name) VALUES ('Ada')`;

/** A refusal of `path` as a store: the caller's input, naming the file, what it found and what was expected. */
function refusal(path: string, found: RegExp) {
  return (e: unknown) =>
    e instanceof InputError &&
    !(e instanceof StoredDataError) &&
    e.where === `store ${path}` &&
    /is not a Gauntlet store/.test(e.message) &&
    found.test(e.message) &&
    e.expected !== undefined &&
    e.expected.includes('an empty file or a Gauntlet store');
}

describe('store: a file another application wrote', () => {
  const kinds: [string, string, RegExp][] = [
    ['one with a runs table of its own', WITH_RUNS, /tables \(audit, billing, plans, runs, sessions and 1 more\)/],
    ['one with no table of ours', UNRELATED, /tables \(customers, orders\)/],
    ['one whose meta table holds no Gauntlet version', `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schemaVersion', 'v2.1'); CREATE TABLE runs (id TEXT)`, /schemaVersion is "v2\.1"/],
    ['one whose empty meta table sits beside tables of its own', `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); CREATE TABLE runs (id TEXT PRIMARY KEY, owner TEXT)`, /tables \(meta, runs\)/],
  ];
  for (const [what, sql, found] of kinds) {
    it(`is refused before anything is written, to write or to read: ${what}`, () => {
      const dir = tempDir();
      const path = foreign(dir, 'app.db', sql);
      const bytes = readFileSync(path);
      assert.throws(() => openStore(path), refusal(path, found));
      assert.throws(() => openStore(path, { readOnly: true }), refusal(path, found));
      assert.throws(() => checkStore(path), refusal(path, found));
      assert.throws(() => backupStore(path, join(dir, 'backup.db')), refusal(path, found));
      assert.deepEqual(readFileSync(path), bytes, 'the file is byte for byte as it was');
      assert.deepEqual(readdirSync(dir), ['app.db'], 'nothing was left beside it');
    });
  }

  it('is refused when it is in WAL mode too, its rows untouched', () => {
    const dir = tempDir();
    const path = foreign(dir, 'app.db', `PRAGMA journal_mode = WAL; ${UNRELATED}`);
    assert.throws(() => openStore(path), refusal(path, /customers, orders/));
    assert.throws(() => openStore(path, { readOnly: true }), refusal(path, /customers, orders/));
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all(), [{ name: 'customers' }, { name: 'orders' }]);
    db.close();
  });
});

describe('store: files that still become or open as stores', () => {
  it('an empty file becomes a store', () => {
    const path = join(tempDir(), 'empty.db');
    writeFileSync(path, '');
    openStore(path).close();
    assert.equal(storedSchemaVersion(path), CURRENT);
  });

  it('a Gauntlet store a user added a table of their own to', () => {
    const path = join(tempDir(), 'g.db');
    copyFileSync(FIXTURE, path);
    const db = new Database(path);
    db.exec(`CREATE TABLE my_notes (run_id TEXT, note TEXT)`);
    db.close();
    const store = openStore(path);
    assert.equal(store.listRuns().length, 4);
    store.close();
    assert.equal(storedSchemaVersion(path), CURRENT);
  });

  it('a 0.1.0 store whose first open stopped before its version was written: its tables, an empty meta table', () => {
    const dir = tempDir();
    const path = join(dir, 'g.db');
    copyFileSync(FIXTURE, path);
    const db = new Database(path);
    db.exec(`DELETE FROM meta`);
    db.close();
    const reader = openStore(path, { readOnly: true });
    assert.equal(reader.listRuns().length, 4);
    reader.close();
    assert.equal(checkStore(path).counts?.runs, 4);
    const store = openStore(path);
    assert.equal(store.listRuns().length, 4);
    store.close();
    assert.equal(storedSchemaVersion(path), CURRENT);
    assert.equal(existsSync(path), true);
  });
});
