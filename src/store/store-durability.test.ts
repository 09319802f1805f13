// What the store promises beyond storing: old files stay readable, a finished rollout is never
// without its records, a bad path or a full disk is one clear error, and keys are never written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { modelCallIdFor, SCHEMA_VERSION, StoreError, type ModelCall, type Rollout, type RolloutId, type RunId } from '../core/index.ts';
import { latestVersion, STORE_MIGRATIONS } from './migrations.ts';

const CURRENT = latestVersion(STORE_MIGRATIONS);
import { openStore } from './sqlite-store.ts';
import { scoredRollout, turnCall } from './test-support.ts';
import { TYPESCRIPT_NODE_ARGS } from '../../test/support/typescript.ts';

const FIXTURE = 'test/fixtures/store/v1.db';

function tempPath(name = 'g.db'): string {
  return join(mkdtempSync(join(tmpdir(), 'gauntlet-store-')), name);
}

const runId = 'run_d' as RunId;
const rolloutId = 'ro_d' as RolloutId;
const rollout = (): Rollout => scoredRollout({ id: rolloutId, runId });

function call(index: number, content = `turn ${index}`): ModelCall {
  return turnCall({ runId, rolloutId }, index, { response: { message: { role: 'assistant', content, toolCalls: [] }, finishReason: 'stop', usage: {} } });
}

describe('store: files written by older versions', () => {
  it('reads the committed version-1 store, upgrading its tables and records', () => {
    const path = tempPath();
    copyFileSync(FIXTURE, path);
    const store = openStore(path);
    const runs = store.listRuns();
    assert.equal(runs.length, 4);
    const oracle = store.getRun('run_20261203210559_22c78d')!;
    // Settings version 1 left implicit are filled in with how version 1 behaved.
    assert.equal(oracle.config.requestTimeoutMs, 600_000);
    assert.equal(oracle.config.context, null);
    assert.equal(oracle.schemaVersion, SCHEMA_VERSION);
    const rollouts = store.rollouts(oracle.id);
    assert.deepEqual(rollouts.map((r) => [r.taskId, r.passed]), [['mail/kestrel-launch-date', true], ['mail/kestrel-launch-date', true]]);
    const calls = store.modelCalls(rollouts[0]!.id);
    assert.ok(calls.length > 2);
    assert.equal(calls[1]!.request.messages.length, calls[0]!.request.messages.length + 2);
    assert.ok(store.events(rollouts[0]!.id).some((e) => e.type === 'tool_call'));
    const scripted = store.rollouts('run_20261203210602_de8319')[0]!;
    assert.equal(store.modelCalls(scripted.id)[0]!.response!.message.reasoning?.text, 'Look at the inbox first.');
    const infra = store.rollouts('run_20261203210611_d176fb')[0]!;
    assert.equal(infra.status, 'infra_error');
    // Runs from before tasks were stored have none; readers say so rather than guess.
    assert.deepEqual(store.runTasks(oracle.id), []);
    store.close();
    const db = new Database(path, { readonly: true });
    assert.equal((db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string }).value, String(CURRENT));
    db.close();
  });

  it('applies a later migration step to it too, once, and still reads every record', () => {
    const path = tempPath();
    copyFileSync(FIXTURE, path);
    const future = { version: CURRENT + 1, description: 'a future step (test)', up: (db: Database.Database) => db.exec('CREATE TABLE notes_future (id TEXT PRIMARY KEY)') };
    const store = openStore(path, { migrations: [...STORE_MIGRATIONS, future] });
    assert.equal(store.listRuns().length, 4);
    assert.equal(store.rollouts('run_20261203210604_a2342e').length, 1);
    store.close();
    // Opening again does not re-run it (it would fail on the existing table).
    openStore(path, { migrations: [...STORE_MIGRATIONS, future] }).close();
    // And this version refuses the file now that it is newer than it knows.
    assert.throws(() => openStore(path), (e: unknown) => e instanceof StoreError && e.problem === 'newer_version' && e.message.includes(`store schema ${CURRENT + 1}; this version reads ${CURRENT}`));
  });

  it('refuses a record written by a newer Gauntlet instead of misreading it', () => {
    const path = tempPath();
    copyFileSync(FIXTURE, path);
    const db = new Database(path);
    const row = db.prepare(`SELECT id, json FROM runs LIMIT 1`).get() as { id: string; json: string };
    db.prepare(`UPDATE runs SET json = ? WHERE id = ?`).run(JSON.stringify({ ...JSON.parse(row.json), schemaVersion: 9 }), row.id);
    db.close();
    const store = openStore(path);
    assert.throws(() => store.getRun(row.id), /run record has schema version 9, newer than this Gauntlet reads/);
    store.close();
  });

  it('names a damaged row instead of failing with a raw parse error', () => {
    const path = tempPath();
    copyFileSync(FIXTURE, path);
    const db = new Database(path);
    db.prepare(`UPDATE rollouts SET json = '{"schemaVersion":2,"id":' WHERE id = 'ro_f26b3c76a0651641'`).run();
    db.close();
    const store = openStore(path);
    assert.throws(() => store.rollouts('run_20261203210611_d176fb'), /rollout ro_f26b3c76a0651641: the stored record is not valid JSON/);
    store.close();
  });
});

describe('store: a finished rollout is never without its records', () => {
  it('commits pending calls and events with the rollout row in one transaction, the row last', () => {
    const path = tempPath();
    // Nothing is flushed in the background: only the commit writes.
    const store = openStore(path, { flushMs: 60_000, batchSize: 10_000 });
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    recorder.modelCall(call(0));
    recorder.event('tool_call', { id: 'c', name: 'look', arguments: '{}' });
    const reader = new Database(path, { readonly: true });
    const count = (table: string) => (reader.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    assert.deepEqual([count('model_calls'), count('events'), count('rollouts')], [0, 0, 0]);
    store.commitRollout(rollout());
    assert.deepEqual([count('model_calls'), count('events'), count('rollouts')], [1, 1, 1]);
    reader.close();
    store.close();
  });

  it('writes nothing more for an attempt once its recorder is sealed', () => {
    const store = openStore(':memory:');
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    recorder.modelCall(call(0));
    recorder.seal();
    recorder.modelCall(call(1));
    recorder.event('tool_call', { id: 'late', name: 'look', arguments: '{}' });
    assert.deepEqual(store.modelCalls(rolloutId).map((c) => c.index), [0]);
    assert.deepEqual(store.events(rolloutId), []);
    store.close();
  });

  it('turns a full disk into one StoreError; the failed commit leaves neither the row nor its calls', () => {
    const path = tempPath();
    const store = openStore(path, { flushMs: 60_000, batchSize: 10_000, maxPageCount: 40 });
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    // About 1 MB of output: more than 40 pages of 4 KB.
    for (let i = 0; i < 20; i++) recorder.modelCall(call(i, 'x'.repeat(50_000)));
    assert.throws(() => store.commitRollout(rollout()), (e: unknown) => e instanceof StoreError && e.problem === 'full' && e.message.includes(path) && /--resume/.test(e.message));
    // Every later write reports the same failure rather than pretending to succeed.
    assert.throws(() => store.commitRollout(rollout()), /full/);
    store.close();
    const reader = openStore(path);
    assert.equal(reader.getRollout(rolloutId), null);
    assert.deepEqual(reader.modelCalls(rolloutId), []);
    reader.close();
  });
});

describe('store: paths that cannot hold a store', () => {
  const cases: [string, () => string, RegExp][] = [
    ['an empty path', () => '', /path is empty/],
    ['a path under /proc', () => '/proc/self/gauntlet.db', /kernel file system/],
    ['a directory', () => mkdtempSync(join(tmpdir(), 'gauntlet-dir-')), /is a directory/],
    ['a file that is not a database', () => {
      const path = tempPath('notes.db');
      writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
      return path;
    }, /not a SQLite database, or a corrupt one/],
    ['a path below a regular file', () => {
      const file = tempPath('plain');
      writeFileSync(file, 'x');
      return join(file, 'g.db');
    }, /cannot open|creating its directory/],
  ];
  for (const [what, path, message] of cases) {
    it(`gives one clear error naming ${what}`, () => {
      const p = path();
      assert.throws(() => openStore(p), (e: unknown) => e instanceof StoreError && message.test(e.message) && e.message.startsWith(`store ${p}:`));
    });
  }
});

describe('store: secrets', () => {
  it('never writes a configured key, wherever it appears in a record', () => {
    const path = tempPath();
    const key = 'sk-test-9f8e7d6c5b4a"\\quoted';
    const store = openStore(path, { secrets: [key] });
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    recorder.modelCall({ ...call(0, `the key is ${key}`), error: { kind: 'http', message: `401 for ${key}` } });
    recorder.event('tool_result', { id: 'c', ok: true, content: `echo ${key}` });
    store.commitRollout({ ...rollout(), finalAnswer: key });
    store.close();
    const bytes = readFileSync(path).toString('latin1') + readFileSync(`${path}-wal`, { flag: 'a+' }).toString('latin1');
    assert.ok(!bytes.includes('sk-test-9f8e7d6c5b4a'), 'the key must not be in the file');
    const reopened = openStore(path);
    assert.equal(reopened.getRollout(rolloutId)!.finalAnswer, '***');
    assert.match(reopened.modelCalls(rolloutId)[0]!.response!.message.content, /the key is \*\*\*/);
    reopened.close();
  });
});

describe('store: opened again by another thread (forThreads)', () => {
  it('hands over the path and the keys to keep out, so the other connection never writes a key either', () => {
    const path = tempPath();
    const key = 'sk-thread-0a1b2c3d4e5f';
    const store = openStore(path, { secrets: [key], maxPageCount: 10_000 });
    const access = store.forThreads();
    assert.ok(access);
    assert.equal(access.path, path);
    assert.deepEqual(access.options.secrets, [key]);
    assert.equal(access.options.maxPageCount, 10_000);
    // Plain data: it crosses to a worker thread as it is.
    const copy = structuredClone(access);
    const other = openStore(copy.path, copy.options);
    other.recorder({ runId, rolloutId, attempt: 1 }).modelCall(call(0, `the key is ${key}`));
    other.commitRollout({ ...rollout(), finalAnswer: key });
    other.close();
    assert.equal(store.getRollout(rolloutId)!.finalAnswer, '***', 'the first connection reads what the other wrote');
    assert.match(store.modelCalls(rolloutId)[0]!.response!.message.content, /the key is \*\*\*/);
    store.close();
    const bytes = readFileSync(path).toString('latin1');
    assert.ok(!bytes.includes(key));
  });

  it('is refused where another connection would not see the same store', () => {
    assert.equal(openStore(':memory:').forThreads(), null, 'an in-memory store is private to its connection');
    const migrated = openStore(tempPath(), { migrations: [...STORE_MIGRATIONS] });
    assert.equal(migrated.forThreads(), null, 'migrations given as code cannot cross to a thread');
    migrated.close();
  });
});

describe('store: writes on a thread of their own (writeOffThread)', () => {
  let epoch = 0;
  function rolloutNamed(id: string): Rollout {
    // A run's rollouts are one per task and epoch.
    return { ...rollout(), id: id as RolloutId, epoch: ++epoch };
  }
  function callOf(id: string, index: number, content = `turn ${index}`, attempt = 1): ModelCall {
    const rid = id as RolloutId;
    return { ...call(index, content), id: modelCallIdFor(rid, attempt, index), rolloutId: rid, attempt, parentId: index === 0 ? null : modelCallIdFor(rid, attempt, index - 1) };
  }

  it('stores what a store writing on its own thread stores, and every read sees what was handed over before it', async () => {
    const store = openStore(tempPath(), { flushMs: 5, batchSize: 3 });
    assert.equal(store.writeOffThread(), true);
    const ids = ['ro_w1', 'ro_w2', 'ro_w3'];
    for (const id of ids) {
      const recorder = store.recorder({ runId, rolloutId: id as RolloutId, attempt: 1 });
      for (let i = 0; i < 4; i++) {
        recorder.modelCall(callOf(id, i));
        recorder.event('tool_call', { id: `c${i}`, name: 'look', arguments: '{}' });
      }
    }
    // Handed over, perhaps not yet written: the attempt after them is still counted.
    assert.equal(store.nextAttempt('ro_w2'), 2);
    await store.commitRolloutsAsync(ids.map(rolloutNamed));
    assert.deepEqual(store.rollouts(runId).map((r) => r.id).sort(), ids);
    for (const id of ids) {
      assert.deepEqual(store.modelCalls(id).map((c) => [c.index, c.response!.message.content]), [0, 1, 2, 3].map((i) => [i, `turn ${i}`]));
      assert.equal(store.events(id).length, 4);
    }
    // A read right after an append sees it: reads wait for the thread.
    store.recorder({ runId, rolloutId: 'ro_w4' as RolloutId, attempt: 1 }).modelCall(callOf('ro_w4', 0, 'late'));
    assert.deepEqual(store.modelCalls('ro_w4').map((c) => c.response!.message.content), ['late']);
    // And back on this thread, the store goes on as before.
    store.writeOnThisThread();
    store.commitRollout(rolloutNamed('ro_w4'));
    assert.equal(store.getRollout('ro_w4')!.id, 'ro_w4');
    store.close();
  });

  it('counts an attempt handed to the thread before the thread has written it', () => {
    const path = tempPath();
    const store = openStore(path, { flushMs: 60_000, batchSize: 1 });
    assert.equal(store.writeOffThread(), true);
    // batchSize 1: each append is handed over at once, without waiting for the thread.
    store.recorder({ runId, rolloutId: 'ro_a' as RolloutId, attempt: 3 }).modelCall(callOf('ro_a', 0, 'third try', 3));
    assert.equal(store.nextAttempt('ro_a'), 4);
    store.close();
    assert.equal(openStore(path).nextAttempt('ro_a'), 4, 'and it is in the file once closed');
  });

  it('turns a full disk into one StoreError, and writes nothing after the batch that failed', async () => {
    const path = tempPath();
    const store = openStore(path, { flushMs: 60_000, batchSize: 10_000, maxPageCount: 40 });
    assert.equal(store.writeOffThread(), true);
    const recorder = store.recorder({ runId, rolloutId, attempt: 1 });
    for (let i = 0; i < 20; i++) recorder.modelCall(call(i, 'x'.repeat(50_000)));
    const failed = store.commitRolloutsAsync([rollout()]);
    // Handed over behind the failing batch: small enough to fit, but it must not be written.
    const after = store.commitRolloutsAsync([rolloutNamed('ro_small')]);
    await assert.rejects(failed, (e: unknown) => e instanceof StoreError && e.problem === 'full' && e.message.includes(path) && e.message.includes(`storing rollout ${rolloutId}`));
    await assert.rejects(after, /full/);
    assert.throws(() => store.commitRollout(rolloutNamed('ro_later')), /full/);
    store.close();
    const reader = openStore(path);
    assert.equal(reader.getRollout(rolloutId), null);
    assert.equal(reader.getRollout('ro_small'), null);
    assert.deepEqual(reader.modelCalls(rolloutId), []);
    reader.close();
  });

  it('keeps the process alive until what was handed over is written, as a pending flush would', () => {
    const path = tempPath();
    // A process that appends and then simply ends, without closing the store or awaiting anything.
    const script = `
      import { openStore } from ${JSON.stringify(new URL('./sqlite-store.ts', import.meta.url).href)};
      const store = openStore(${JSON.stringify(path)}, { batchSize: 1, flushMs: 60_000 });
      if (!store.writeOffThread()) throw new Error('no writer thread');
      const recorder = store.recorder({ runId: 'run_x', rolloutId: 'ro_exit', attempt: 1 });
      for (let i = 0; i < 50; i++) recorder.event('tool_call', { id: 'c' + i, name: 'look', arguments: '{}' });
    `;
    execFileSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, '--input-type=module', '-e', script], { stdio: 'pipe', timeout: 60_000 });
    const reader = openStore(path);
    assert.equal(reader.events('ro_exit').length, 50);
    reader.close();
  });

  it('is refused for an in-memory store, whose data no other connection sees', () => {
    const store = openStore(':memory:');
    assert.equal(store.writeOffThread(), false);
    store.close();
  });

  it('leaves the log folded into the file when the store closes', async () => {
    const path = tempPath();
    const store = openStore(path);
    assert.equal(store.writeOffThread(), true);
    store.recorder({ runId, rolloutId, attempt: 1 }).modelCall(call(0));
    await store.commitRolloutsAsync([rollout()]);
    store.close();
    assert.equal(readFileSync(`${path}-wal`, { flag: 'a+' }).length, 0, 'no log left beside the file');
    const reader = new Database(path, { readonly: true });
    assert.equal((reader.prepare('SELECT COUNT(*) AS n FROM model_calls').get() as { n: number }).n, 1);
    reader.close();
  });
});
