// The write-ahead log is folded into the database by a thread of its own once it has grown, and
// handed back to SQLite if that thread cannot do it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { waitFor } from '../../test/support/wait.ts';
import { Checkpointer, SharedCheckpoints } from './checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-checkpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openLogged(name: string): { db: Database.Database; path: string; write: (rows: number) => void } {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const write = db.transaction((rows: number) => {
    for (let i = 0; i < rows; i++) insert.run('x'.repeat(4000));
  });
  return { db, path, write };
}

const size = (path: string): number => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
const autocheckpoint = (db: Database.Database): unknown => db.pragma('wal_autocheckpoint', { simple: true });

describe('checkpoints off the main thread', () => {
  it('take over once the log has grown, keep the log folded in, and leave no log behind on close', async () => {
    const { db, path, write } = openLogged('grows.db');
    const checkpoints = new Checkpointer({ db, path, takeOverAtBytes: 1 * 2 ** 20, lookEveryCommits: 4, everyMs: 20 });
    for (let i = 0; i < 200 && !checkpoints.offThread; i++) {
      write(50);
      checkpoints.committed();
    }
    assert.equal(checkpoints.offThread, true);
    assert.equal(autocheckpoint(db), 0, 'the main connection no longer checkpoints');
    // Pages reach the database file only through a checkpoint: the thread's, since ours are off.
    const before = size(path);
    write(500);
    checkpoints.committed();
    await waitFor(() => size(path) >= before + 1.5 * 2 ** 20, 'the thread to copy the log into the database');
    checkpoints.close();
    db.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the last connection to close folds the log in and removes it');
    const reopened = new Database(path, { readonly: true });
    assert.ok((reopened.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n >= 550);
    reopened.close();
  });

  it('empty a log a long reader held up once it ends, warning while it holds it', async () => {
    const { db, path, write } = openLogged('held.db');
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => void (warning.code === 'GAUNTLET_STORE_LOG' && warnings.push(warning.message));
    process.on('warning', onWarning);
    const checkpoints = new Checkpointer({ db, path, takeOverAtBytes: 0, lookEveryCommits: 1, everyMs: 5, resetAtBytes: 2 ** 20, warnAtBytes: 2 * 2 ** 20 });
    // A viewer, a backup or a sqlite3 shell in the middle of a read: nothing it may still read can be copied over.
    const reader = new Database(path, { readonly: true });
    try {
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) AS n FROM t').get();
      for (let i = 0; i < 16; i++) {
        write(50);
        checkpoints.committed();
      }
      assert.equal(checkpoints.offThread, true);
      await waitFor(() => {
        write(1);
        checkpoints.committed();
        return warnings.length > 0;
      }, 'a warning that the log cannot be emptied');
      assert.match(warnings[0]!, /write-ahead log .* has grown to \d+ MiB and cannot be emptied while another connection keeps reading it/);
      assert.ok(size(`${path}-wal`) >= 3 * 2 ** 20);
      reader.exec('COMMIT');
      // Writes go on; copying alone would reuse the log from its start but leave the file its size.
      await waitFor(() => {
        write(1);
        checkpoints.committed();
        return size(`${path}-wal`) < 2 ** 20;
      }, 'the log to be emptied once the reader ended');
      assert.equal(warnings.length, 1, 'warned once while it was held');
    } finally {
      process.off('warning', onWarning);
      reader.close();
      checkpoints.close();
      db.close();
    }
    const reopened = new Database(path, { readonly: true });
    assert.ok((reopened.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n >= 16 * 50);
    reopened.close();
  });

  it('leave a small store alone: no thread, SQLite checkpoints as usual', () => {
    const { db, path, write } = openLogged('small.db');
    const checkpoints = new Checkpointer({ db, path, lookEveryCommits: 1 });
    for (let i = 0; i < 10; i++) {
      write(1);
      checkpoints.committed();
    }
    assert.equal(checkpoints.offThread, false);
    assert.equal(autocheckpoint(db), 1000);
    checkpoints.close();
    db.close();
  });

  it('hand the checkpoints back to SQLite, with a warning, when the thread cannot open the database', async () => {
    const { db, write } = openLogged('handback.db');
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      // A path that does not exist: the thread opens with fileMustExist and fails.
      const lost = new Checkpointer({ db, path: join(dir, 'missing', 'gone.db'), takeOverAtBytes: 0, lookEveryCommits: 1 });
      write(1);
      lost.committed();
      assert.equal(lost.offThread, true);
      assert.equal(autocheckpoint(db), 0);
      await waitFor(() => !lost.offThread, 'the failed thread to hand the checkpoints back');
      assert.equal(autocheckpoint(db), 1000);
      await waitFor(() => warnings.some((w) => w.includes('checkpoints are back on the main thread')), 'the warning');
      lost.close();
    } finally {
      process.off('warning', onWarning);
      db.close();
    }
  });

  it('shared with another connection: the thread takes over at once and checkpoints that connection\'s commits', async () => {
    const { db, path } = openLogged('shared.db');
    const checkpoints = new Checkpointer({ db, path, everyMs: 20 });
    const share = checkpoints.share();
    assert.ok(share);
    assert.equal(checkpoints.offThread, true, 'the other connection\'s commits are not seen here: no waiting for the log to grow');
    const other = new Database(path);
    const shared = new SharedCheckpoints({ db: other, share });
    assert.equal(autocheckpoint(other), 0, 'the other connection leaves checkpoints to the thread');
    const insert = other.prepare('INSERT INTO t (v) VALUES (?)');
    const before = size(path);
    other.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run('y'.repeat(4000));
    })();
    shared.committed();
    await waitFor(() => size(path) >= before + 1.5 * 2 ** 20, 'the thread to copy the other connection\'s log into the database');
    shared.close();
    other.close();
    checkpoints.close();
    db.close();
  });

  it('given back to SQLite: a sharing connection checkpoints again too', async () => {
    const { db } = openLogged('shared-handback.db');
    const lost = new Checkpointer({ db, path: join(dir, 'missing', 'gone.db') });
    const share = lost.share();
    assert.ok(share);
    const other = new Database(join(dir, 'shared-handback.db'));
    const shared = new SharedCheckpoints({ db: other, share });
    assert.equal(autocheckpoint(other), 0);
    await waitFor(() => !lost.offThread, 'the failed thread to hand the checkpoints back');
    shared.committed();
    assert.equal(autocheckpoint(other), 1000);
    assert.equal(lost.share(), null, 'nothing left to share');
    other.close();
    lost.close();
    db.close();
  });
});
