// The store under attack and bad luck: processes racing on one file, rows edited by hand, a disk
// that fills while rollouts are still in flight. Each case must end in a clear error or in the
// data as it was written, never in a store that no longer opens or a record rebuilt wrong.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { modelCallIdFor, StoreError, StoredDataError, type ModelCall, type Rollout, type RolloutId, type RunId } from '../core/index.ts';
import { latestVersion, STORE_MIGRATIONS } from './migrations.ts';
import { openStore } from './sqlite-store.ts';
import { storeErrorFrom } from './sqlite-errors.ts';
import { scoredRollout, turnCall } from './test-support.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const CURRENT = latestVersion(STORE_MIGRATIONS);
const FIXTURE = 'test/fixtures/store/v1.db';

function tempPath(name = 'g.db'): string {
  return join(mkdtempSync(join(tmpdir(), 'gauntlet-attack-')), name);
}

function versionOf(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number((db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string }).value);
  } finally {
    db.close();
  }
}

function count(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('store: several processes open one file at once', () => {
  it('every process opens a new store, and the file ends at the current version', { timeout: 60_000 }, async () => {
    const children: ChildProcess[] = [];
    try {
      // All loaded first, then handed the same new path together, round after round: the opens overlap.
      for (let i = 0; i < 4; i++) children.push(fork('test/support/store-open-child.ts', [], { execArgv: [...TYPESCRIPT_NODE_ARGS], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
      await Promise.all(children.map((child) => once(child, 'message')));
      for (let round = 0; round < 8; round++) {
        const path = tempPath();
        const answers = children.map((child) => once(child, 'message').then(([answer]) => answer as { opened: boolean; error?: string }));
        for (const child of children) child.send(path);
        assert.deepEqual(await Promise.all(answers), children.map(() => ({ opened: true })), `round ${round}`);
        assert.equal(versionOf(path), CURRENT);
        openStore(path).close();
      }
    } finally {
      for (const child of children) if (child.connected) child.send('exit');
    }
  });

  it('a store whose version an older race set back below its tables opens again, its records intact', () => {
    const path = tempPath();
    copyFileSync(FIXTURE, path);
    openStore(path).close();
    const labels = count(path, 'review_labels');
    const db = new Database(path);
    db.prepare(`UPDATE meta SET value = '1' WHERE key = 'schemaVersion'`).run();
    db.close();
    const store = openStore(path);
    try {
      assert.equal(store.listRuns().length, 4);
    } finally {
      store.close();
    }
    assert.equal(versionOf(path), CURRENT);
    assert.equal(count(path, 'review_labels'), labels, 'verdict labels are copied once, not again');
  });
});

const runId = 'run_a' as RunId;
const rollout = (id: string, epoch: number): Rollout => scoredRollout({ id: id as RolloutId, runId, epoch });
const rolloutId = 'ro_a' as RolloutId;

function wireCall(index: number): ModelCall {
  const messages = Array.from({ length: index + 1 }, (_, i) => ({ role: 'user' as const, content: `message ${i}` }));
  return turnCall({ runId, rolloutId }, index, {
    request: { messages, tools: [], sampling: {} },
    wire: { url: 'http://127.0.0.1/v1/chat/completions', request: { model: 'm', messages }, status: 200 },
  });
}

describe('store: model call rows edited by hand', () => {
  function storedCalls(): string {
    const path = tempPath();
    const store = openStore(path);
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    for (let i = 0; i < 3; i++) recorder.modelCall(wireCall(i));
    store.close();
    return path;
  }

  const cases: [string, string, RegExp][] = [
    ['the wire messages of the last call gone', `UPDATE model_calls SET wire_messages_tail = NULL WHERE idx = 2`, /model call mc_[0-9a-f]+: wire_messages_tail: is empty, yet the wire request had its messages taken out/],
    ['a wire keep without its base', `UPDATE model_calls SET wire_messages_base = NULL WHERE idx = 2`, /model call mc_[0-9a-f]+: wire_messages_base: is empty, yet wire_messages_keep keeps 2 messages of it/],
    ['a negative wire keep', `UPDATE model_calls SET wire_messages_keep = -2 WHERE idx = 2`, /model call mc_[0-9a-f]+: wire_messages_keep: is -2 \(expected a count of messages, 0 or more/],
    ['a fractional keep', `UPDATE model_calls SET messages_keep = 1.5 WHERE idx = 2`, /model call mc_[0-9a-f]+: messages_keep: is 1.5/],
  ];
  for (const [what, sql, message] of cases) {
    it(`names the row and column, never rebuilding the request short: ${what}`, () => {
      const path = storedCalls();
      const db = new Database(path);
      db.exec(sql);
      db.close();
      const store = openStore(path);
      try {
        assert.throws(() => store.modelCalls(rolloutId), (e: unknown) => e instanceof StoredDataError && message.test(e.message) && e.message.includes(path));
      } finally {
        store.close();
      }
    });
  }

  it('rebuilds the untouched rows exactly', () => {
    const store = openStore(storedCalls());
    try {
      assert.deepEqual(store.modelCalls(rolloutId), [0, 1, 2].map(wireCall));
    } finally {
      store.close();
    }
  });
});

function bigCall(id: string, index: number): ModelCall {
  const call = wireCall(index);
  const rid = id as RolloutId;
  return { ...call, id: modelCallIdFor(rid, 1, index), rolloutId: rid, parentId: null, response: { ...call.response!, message: { role: 'assistant', content: 'x'.repeat(50_000), toolCalls: [] } } };
}

describe('store: reads once the disk is full', () => {
  it('see what the file holds instead of failing, and closing does not repeat the failure the caller was given', async () => {
    const path = tempPath();
    const store = openStore(path, { flushMs: 60_000, batchSize: 10_000, maxPageCount: 40 });
    store.commitRollout(rollout('ro_kept', 0));
    assert.equal(store.writeOffThread(), true);
    const recorder = store.recorder({ runId, rolloutId: 'ro_big' as RolloutId, attempt: 1 });
    for (let i = 0; i < 20; i++) recorder.modelCall(bigCall('ro_big', i));
    const failed = store.commitRolloutsAsync([rollout('ro_big', 1)]);
    // Another rollout's appends, buffered while that commit is on the thread: they can never be written now.
    store.recorder({ runId, rolloutId: 'ro_next' as RolloutId, attempt: 1 }).modelCall(bigCall('ro_next', 0));
    await assert.rejects(failed, (e: unknown) => e instanceof StoreError && e.problem === 'full');
    // What a stopped run counts and reports.
    assert.deepEqual(store.rolloutOutcomes(runId).map((r) => r.id), ['ro_kept']);
    assert.deepEqual(store.rollouts(runId).map((r) => r.id), ['ro_kept']);
    assert.deepEqual(store.modelCalls('ro_big'), []);
    store.close();
  });

  it('closing reports a failure no caller was given', () => {
    const path = tempPath();
    const store = openStore(path, { flushMs: 60_000, batchSize: 10_000, maxPageCount: 40 });
    const recorder = store.recorder({ runId, rolloutId: 'ro_big' as RolloutId, attempt: 1 });
    for (let i = 0; i < 20; i++) recorder.modelCall(bigCall('ro_big', i));
    // A read writes the buffer first; it fails, and the read goes on.
    assert.deepEqual(store.modelCalls('ro_big'), []);
    assert.throws(() => store.close(), (e: unknown) => e instanceof StoreError && e.problem === 'full' && e.message.includes(path));
  });
});

describe('store: a write the operating system refuses', () => {
  it('is named as a failed write (a full disk or a file size limit), not as a locking problem', () => {
    const error = storeErrorFrom('/data/g.db', Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' }), 'storing rollout ro_x');
    assert.equal(error.problem, 'io');
    assert.match(error.message, /^store \/data\/g\.db: could not write the file while storing rollout ro_x \(SQLITE_IOERR_WRITE\): the disk may be full, a file size limit/);
    assert.doesNotMatch(error.message, /locking/);
  });
});

describe('store: the columns a run summary counts from, edited by hand', () => {
  const cases: [string, string, RegExp][] = [
    ['a score that is text', `UPDATE rollouts SET score = 'high' WHERE id = 'ro_1'`, /rollout ro_1: score: is "high" \(expected the score of a scored rollout, a number/],
    ['a scored rollout without its score', `UPDATE rollouts SET score = NULL WHERE id = 'ro_1'`, /rollout ro_1: score: is NULL/],
    ['a scored rollout passed neither way', `UPDATE rollouts SET passed = NULL WHERE id = 'ro_1'`, /rollout ro_1: passed: is NULL \(expected 0 or 1 for a scored rollout/],
    ['passed as 2', `UPDATE rollouts SET passed = 2 WHERE id = 'ro_1'`, /rollout ro_1: passed: is 2/],
    ['a negative epoch', `UPDATE rollouts SET epoch = -1 WHERE id = 'ro_1'`, /rollout ro_1: epoch: is -1 \(expected an epoch number, 0 or more/],
  ];
  for (const [what, sql, message] of cases) {
    it(`are refused naming the rollout and column, never counted wrong: ${what}`, () => {
      const path = tempPath();
      const store = openStore(path);
      store.commitRollouts([rollout('ro_0', 0), rollout('ro_1', 1)]);
      assert.equal(store.rolloutOutcomes(runId).filter((r) => r.passed).length, 2);
      store.close();
      const db = new Database(path);
      db.exec(sql);
      db.close();
      const reader = openStore(path);
      try {
        assert.throws(() => reader.rolloutOutcomes(runId), (e: unknown) => e instanceof StoredDataError && message.test(e.message) && e.message.includes(path));
      } finally {
        reader.close();
      }
    });
  }
});
