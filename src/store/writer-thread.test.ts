// The writer thread fails loudly, never silently and never by hanging its caller.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { WriterThread } from './writer-thread.ts';

const share = () => ({ state: new SharedArrayBuffer(12) });
const statements = { insertNote: 'INSERT INTO notes (text) VALUES (?)' };

function notesFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-writer-')), 'notes.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE notes (text TEXT NOT NULL)');
  db.close();
  return path;
}

describe('store writer thread', () => {
  it('writes batches in order, one transaction each, and counts its commits for the checkpointer', async () => {
    const path = notesFile();
    const checkpoints = share();
    const thread = new WriterThread({ path, statements, checkpoints });
    const first = thread.send({ statements: ['insertNote', 'insertNote'], params: [['a'], ['b']] });
    const second = thread.send({ statements: ['insertNote'], params: [['c']] });
    await thread.written(second);
    await thread.written(first);
    assert.equal(thread.close(), undefined);
    assert.equal(Atomics.load(new Int32Array(checkpoints.state), 0), 2, 'two commits counted');
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT text FROM notes ORDER BY rowid').pluck().all(), ['a', 'b', 'c']);
    db.close();
  });

  it('refuses every batch after one that failed, so nothing handed over later is written', async () => {
    const path = notesFile();
    const thread = new WriterThread({ path, statements, checkpoints: share() });
    const bad = thread.send({ statements: ['insertNote', 'insertNote'], params: [['kept out'], [null]] });
    const good = thread.send({ statements: ['insertNote'], params: [['would fit']] });
    await assert.rejects(thread.written(bad), (e: { message: string; code?: string }) => e.code === 'SQLITE_CONSTRAINT_NOTNULL' && /NOT NULL/.test(e.message));
    await assert.rejects(thread.written(good), /NOT NULL/);
    assert.match(thread.settle()!.message, /NOT NULL/);
    thread.close();
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT text FROM notes').pluck().all(), [], 'the failed transaction rolled back, the later one never ran');
    db.close();
  });

  it('settles every batch handed over behind a failure before it closes, leaving no one waiting', async () => {
    const thread = new WriterThread({ path: notesFile(), statements, checkpoints: share() });
    const bad = thread.written(thread.send({ statements: ['insertNote'], params: [[null]] }));
    const behind = Array.from({ length: 200 }, (_, i) => thread.written(thread.send({ statements: ['insertNote'], params: [[`note ${i}`]] })));
    thread.close();
    const outcomes = await Promise.allSettled([bad, ...behind]);
    assert.deepEqual(new Set(outcomes.map((o) => o.status)), new Set(['rejected']));
  });

  it('answers a store it cannot open with SQLite’s error for each batch', async () => {
    // The store's file is made when it opens; the thread only ever opens an existing one.
    const thread = new WriterThread({ path: join(mkdtempSync(join(tmpdir(), 'gauntlet-writer-')), 'missing.db'), statements, checkpoints: share() });
    const seq = thread.send({ statements: ['insertNote'], params: [['x']] });
    await assert.rejects(thread.written(seq), (e: { code?: string }) => e.code === 'SQLITE_CANTOPEN');
    thread.close();
  });

  it('stops a synchronous wait on a thread that does not answer, instead of blocking its caller for ever', () => {
    const path = notesFile();
    // Another connection holds the write lock; the thread waits on it longer than settle may.
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    const thread = new WriterThread({ path, statements, checkpoints: share(), busyTimeoutMs: 2_000, maxWaitMs: 200 });
    thread.send({ statements: ['insertNote'], params: [['blocked']] });
    const started = Date.now();
    const failure = thread.settle();
    assert.match(failure?.message ?? '', /writer thread did not answer within 200 ms/);
    assert.ok(Date.now() - started < 1_900, 'settle gave up before the lock would have been granted');
    // Every later batch fails with it rather than waiting.
    const later = thread.send({ statements: ['insertNote'], params: [['later']] });
    holder.exec('ROLLBACK');
    holder.close();
    thread.close();
    return assert.rejects(thread.written(later), /did not answer/);
  });
});
