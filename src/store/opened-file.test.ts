// A store file deleted or replaced under a process writing to it: the writes stop with an error
// naming what happened, what the process stored is saved beside the path, and the file now at the
// path (or the next store made there) is not read through the log the process left.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError, type RolloutId, type Run, type RunId } from '../core/index.ts';
import { openStore } from './sqlite-store.ts';
import { scoredRollout } from './test-support.ts';

const FIXTURE = 'test/fixtures/store/v1.db';
const runId = 'run_moved' as RunId;

function tempPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'gauntlet-moved-')), 'g.db');
}

/** A store at `path` holding a run and `stored` committed rollouts. */
function storeWithRollouts(path: string, stored: number) {
  const store = openStore(path);
  const v1 = openStore(FIXTURE, { readOnly: true });
  const template = v1.listRuns()[0]!;
  v1.close();
  store.createRun({ ...template, id: runId } as Run, []);
  for (let epoch = 0; epoch < stored; epoch++) store.commitRollout(scoredRollout({ id: `ro_${epoch}` as RolloutId, runId, epoch }));
  return store;
}

const rescued = (path: string) => `${path}.rescued-${process.pid}.db`;

function rolloutCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM rollouts').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('store: its file deleted under a writing process', () => {
  it('stops at the next commit naming what happened, saves every stored rollout beside the path, and leaves no log there', () => {
    const path = tempPath();
    const store = storeWithRollouts(path, 3);
    unlinkSync(path);
    assert.throws(
      () => store.commitRollout(scoredRollout({ id: 'ro_3' as RolloutId, runId, epoch: 3 })),
      (e: unknown) => e instanceof StoreError && e.problem === 'unusable_path' && /the file was deleted while this process was writing to it/.test(e.message) && e.message.includes(`saved in ${rescued(path)}`),
    );
    store.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the log of the deleted file is not left for the next store at this path');
    assert.equal(existsSync(`${path}-shm`), false);
    assert.equal(existsSync(path), false, 'nothing is made at the path');
    const saved = openStore(rescued(path));
    assert.deepEqual(saved.rollouts(runId).map((r) => r.id), ['ro_0', 'ro_1', 'ro_2']);
    saved.close();
    // A new store at the path starts empty and sound.
    const fresh = openStore(path);
    assert.deepEqual(fresh.listRuns(), []);
    fresh.close();
  });

  it('is noticed when the store closes without another write, and the rollouts are saved then', () => {
    const path = tempPath();
    const store = storeWithRollouts(path, 2);
    unlinkSync(path);
    assert.throws(() => store.close(), /the file was deleted while this process was writing to it/);
    assert.equal(rolloutCount(rescued(path)), 2);
  });
});

describe('store: its file replaced under a writing process', () => {
  it('stops at the next commit, saves what it stored, and the file moved there reads as it was, not through the old log', () => {
    const path = tempPath();
    const store = storeWithRollouts(path, 4);
    // A restore: another store moved into the path while the process still writes.
    const other = join(mkdtempSync(join(tmpdir(), 'gauntlet-moved-other-')), 'backup.db');
    copyFileSync(FIXTURE, other);
    renameSync(other, path);
    assert.throws(
      () => store.commitRollout(scoredRollout({ id: 'ro_4' as RolloutId, runId, epoch: 4 })),
      (e: unknown) => e instanceof StoreError && /the file was replaced by another file while this process was writing to it/.test(e.message),
    );
    store.close();
    assert.equal(rolloutCount(rescued(path)), 4);
    const restored = new Database(path, { readonly: true });
    try {
      assert.equal(restored.pragma('quick_check', { simple: true }), 'ok');
      assert.equal((restored.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n, 4, "the fixture's four runs, nothing of the process's");
      assert.equal((restored.prepare(`SELECT COUNT(*) AS n FROM runs WHERE id = ?`).get(runId) as { n: number }).n, 0);
    } finally {
      restored.close();
    }
  });
});
