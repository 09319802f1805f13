// A run's rollouts counted by SQL (Store.runSummaryCounts, runStoredCounts) count exactly what the
// list of them counts, float totals to the last digit; and pages of rollouts read the whole list.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { rolloutIdFor, RolloutStatus, StoredDataError, TerminationReason, type RolloutCounts, type RolloutOutcome, type RunId } from '../core/index.ts';
import { STORE_MIGRATIONS } from './migrations.ts';
import { openStore } from './sqlite-store.ts';
import { scoredRollout, writeVariedRun } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-counts-'));
let n = 0;
const fresh = () => join(dir, `store-${n++}.db`);

/** The counts of a list of rollouts, as a loop over them makes them: the reference. */
function countsOf(rows: readonly (Pick<RolloutOutcome, 'status' | 'terminationReason' | 'passed' | 'score'> & { taskId: string })[]): RolloutCounts {
  const byStatus = Object.fromEntries(RolloutStatus.options.map((s) => [s, 0])) as RolloutCounts['byStatus'];
  const terminationReasons = Object.fromEntries(TerminationReason.options.map((r) => [r, 0])) as RolloutCounts['terminationReasons'];
  const tasks = new Map<string, { scored: number; passed: number; judged: number }>();
  let scoreSum = 0;
  for (const r of rows) {
    byStatus[r.status]++;
    terminationReasons[r.terminationReason]++;
    if (r.status !== 'scored') continue;
    scoreSum += r.score ?? 0;
    const t = tasks.get(r.taskId) ?? { scored: 0, passed: 0, judged: 0 };
    t.scored++;
    if (r.passed === true) t.passed++;
    if (r.passed !== null) t.judged++;
    tasks.set(r.taskId, t);
  }
  const mean = (rates: number[]) => (rates.length > 0 ? rates.reduce((s, v) => s + v, 0) / rates.length : null);
  const all = [...tasks.values()];
  return {
    rollouts: rows.length,
    byStatus,
    terminationReasons,
    passed: all.reduce((s, t) => s + t.passed, 0),
    judged: all.reduce((s, t) => s + t.judged, 0),
    withScore: rows.filter((r) => r.status === 'scored' && r.score !== null).length,
    scoreSum,
    taskMeanPassRate: mean(all.map((t) => t.passed / t.scored)),
    taskMeanJudgedPassRate: mean(all.filter((t) => t.judged > 0).map((t) => t.passed / t.judged)),
  };
}

/** `actual` equals `expected` field by field, each number bit for bit. */
function sameCounts(actual: RolloutCounts, expected: RolloutCounts): void {
  const { errorRollouts: _ignored, ...counts } = actual as RolloutCounts & { errorRollouts?: unknown };
  assert.deepStrictEqual(counts, expected);
  for (const key of ['scoreSum', 'taskMeanPassRate', 'taskMeanJudgedPassRate'] as const) assert.ok(Object.is(actual[key], expected[key]), `${key}: ${actual[key]} is not ${expected[key]}`);
}

describe('run counts by SQL', () => {
  it('count as the rollouts read: a damaged reward as the error it reads as, the errors listed with their causes', () => {
    const path = fresh();
    const { runId, damagedIds } = writeVariedRun(path);
    const store = openStore(path, { readOnly: true, warn: () => {} });
    try {
      const rollouts = store.rollouts(runId);
      const counts = store.runSummaryCounts(runId);
      sameCounts(counts, countsOf(rollouts));
      const errors = rollouts.filter((r) => r.status === 'error');
      assert.deepEqual(
        counts.errorRollouts,
        errors.map((r) => ({ id: r.id, taskId: r.taskId, epoch: r.epoch, status: r.status, terminationReason: r.terminationReason, score: r.score, passed: r.passed, error: r.error })),
      );
      for (const id of damagedIds) assert.ok(counts.errorRollouts.some((r) => r.id === id && /the reward is unavailable/.test(r.error?.message ?? '')), id);
      assert.equal(counts.byStatus.error, 5);
    } finally {
      store.close();
    }
  });

  it('count as review listings do from the stored columns: the damaged rollout as stored, scored', () => {
    const path = fresh();
    const { runId } = writeVariedRun(path);
    const store = openStore(path, { readOnly: true });
    try {
      const counts = store.runStoredCounts(runId);
      sameCounts(counts, countsOf(store.rolloutSummaries(runId)));
      assert.equal(counts.byStatus.error, 2);
    } finally {
      store.close();
    }
  });

  it('add the scores one at a time in task and epoch order, as a loop does, not with SQLite’s compensated SUM', () => {
    const store = openStore(':memory:');
    const runId = 'run_tenths' as RunId;
    // Ten scores of 0.1: a loop makes 0.9999999999999999, SQLite's SUM makes 1.
    for (let epoch = 0; epoch < 10; epoch++) store.commitRollout({ ...scoredRollout({ id: rolloutIdFor(runId, 'counter/a', epoch), runId, epoch }), score: 0.1 });
    const counts = store.runStoredCounts(runId);
    assert.equal(counts.scoreSum, 0.9999999999999999);
    assert.ok(Object.is(store.runSummaryCounts(runId).scoreSum, counts.scoreSum));
    store.close();
  });

  it('count an empty run as nothing at all', () => {
    const store = openStore(':memory:');
    const counts = store.runSummaryCounts('run_none');
    sameCounts(counts, countsOf([]));
    assert.deepEqual(counts.errorRollouts, []);
    sameCounts(store.runStoredCounts('run_none'), countsOf([]));
    store.close();
  });

  it('read the counts from an index older stores gain when they are opened, not from the records', () => {
    const path = fresh();
    openStore(path, { migrations: STORE_MIGRATIONS.filter((m) => m.version <= 5) }).close();
    openStore(path).close();
    const db = new Database(path, { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT task_id, status, termination_reason, passed, typeof(score), COUNT(*) FROM rollouts WHERE run_id = ? GROUP BY task_id, status, termination_reason, passed, typeof(score) ORDER BY task_id`).all('run_x') as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
      assert.match(plan, /USING COVERING INDEX rollouts_outcomes/);
    } finally {
      db.close();
    }
  });

  it('name a row whose columns hold what no Gauntlet writes, instead of counting it', () => {
    const path = fresh();
    const { runId } = writeVariedRun(path);
    const odd = rolloutIdFor(runId, 't/c', 2);
    const db = new Database(path);
    db.prepare(`UPDATE rollouts SET passed = 7 WHERE id = ?`).run(odd);
    db.close();
    const store = openStore(path, { readOnly: true, warn: () => {} });
    try {
      for (const count of [() => store.runSummaryCounts(runId), () => store.runStoredCounts(runId)]) {
        assert.throws(count, (e: unknown) => e instanceof StoredDataError && e.message.includes(`rollout ${odd}`) && /passed 7/.test(e.message));
      }
    } finally {
      store.close();
    }
  });

  it('name a rollout whose record is not JSON, as listing it would', () => {
    const path = fresh();
    const { runId } = writeVariedRun(path);
    const cut = rolloutIdFor(runId, 't/a', 1);
    const db = new Database(path);
    db.prepare(`UPDATE rollouts SET json = '{cut' WHERE id = ?`).run(cut);
    db.close();
    const store = openStore(path, { readOnly: true, warn: () => {} });
    try {
      for (const count of [() => store.runSummaryCounts(runId), () => store.runStoredCounts(runId)]) {
        assert.throws(count, (e: unknown) => e instanceof StoredDataError && e.message.includes(`rollout ${cut}: the stored record is not valid JSON`));
      }
    } finally {
      store.close();
    }
  });
});

describe('rollouts read a page at a time', () => {
  it('read every rollout once, in the order of the whole list, whatever the page size', () => {
    const path = fresh();
    const { runId } = writeVariedRun(path);
    const store = openStore(path, { readOnly: true, warn: () => {} });
    try {
      const whole = store.rollouts(runId);
      for (const size of [1, 2, 3, 7, 500]) assert.deepStrictEqual([...store.eachRollout(runId, size)], whole, `pages of ${size}`);
      assert.deepEqual([...store.eachRollout('run_none')], []);
    } finally {
      store.close();
    }
  });

  it('read one snapshot: a rollout another process commits meanwhile is not seen until it ends', async () => {
    const path = fresh();
    const { runId } = writeVariedRun(path);
    const reader = openStore(path, { readOnly: true, warn: () => {} });
    const writer = openStore(path, { warn: () => {} });
    try {
      const before = reader.runSummaryCounts(runId).rollouts;
      await reader.readSnapshot(async () => {
        assert.equal(reader.runSummaryCounts(runId).rollouts, before);
        writer.commitRollout({ ...scoredRollout({ id: rolloutIdFor(runId, 't/f', 0), runId }), taskId: 't/f' as never });
        await Promise.resolve();
        assert.equal(reader.runSummaryCounts(runId).rollouts, before);
        assert.equal([...reader.eachRollout(runId, 2)].length, before);
      });
      assert.equal(reader.runSummaryCounts(runId).rollouts, before + 1);
    } finally {
      writer.close();
      reader.close();
    }
  });
});
