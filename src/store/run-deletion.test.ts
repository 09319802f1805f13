import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { InputError, type ReviewLabelRow, type RolloutId, type RunId } from '../core/index.ts';
import { writeLargeRun, writeLongTrajectory } from '../review/fixtures.ts';
import { STORE_MIGRATIONS } from './migrations.ts';
import { openStore, type SqliteStore } from './sqlite-store.ts';
import { checkStore } from './backup.ts';
import { scoredRollout, turnCall } from './test-support.ts';

const TABLES = ['runs', 'rollouts', 'model_calls', 'events', 'run_tasks', 'tasks', 'detections', 'review_labels', 'review_queues', 'review_items', 'run_leases'] as const;

function counts(path: string): Record<(typeof TABLES)[number], number> {
  const db = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t, (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n])) as Record<(typeof TABLES)[number], number>;
  } finally {
    db.close();
  }
}

function rowsOfRun(path: string, runId: string): number {
  const db = new Database(path, { readonly: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get(runId) as { n: number }).n;
    return n('SELECT COUNT(*) AS n FROM model_calls WHERE run_id = ?') + n('SELECT COUNT(*) AS n FROM events WHERE run_id = ?') + n('SELECT COUNT(*) AS n FROM rollouts WHERE run_id = ?') + n('SELECT COUNT(*) AS n FROM run_tasks WHERE run_id = ?');
  } finally {
    db.close();
  }
}

/** Two runs sharing task versions; run A also holds an attempt that never finished (calls, no rollout row). */
function twoRuns(): { store: SqliteStore; path: string; a: RunId; b: RunId; rolloutA: RolloutId } {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-delete-')), 'g.db');
  const store = openStore(path);
  const rolloutA = writeLongTrajectory(store, { runId: 'run_a', turns: 4 });
  const a = 'run_a' as RunId;
  const unfinished = store.recorder({ runId: a, rolloutId: 'ro_unfinished' as RolloutId, attempt: 1 });
  unfinished.modelCall(turnCall({ runId: a, rolloutId: 'ro_unfinished' as RolloutId }, 0));
  unfinished.event('tool_call', { id: 'c', name: 'bash', arguments: '{}' });
  const b = writeLargeRun(store, { runId: 'run_b', tasks: 3, epochs: 2 });
  store.saveDetections(rolloutA, 1, { createdAt: '2026-01-01T00:00:00.000Z', detectors: [], flags: [], monitor: null, review: [], unparsed: [] });
  store.flush();
  return { store, path, a, b, rolloutA };
}

function label(over: Partial<ReviewLabelRow> & Pick<ReviewLabelRow, 'id' | 'runId' | 'rolloutId'>): ReviewLabelRow {
  return { kind: 'verdict', otherRolloutId: null, reviewer: 'ana', queueItemId: null, completesItem: false, createdAt: '2026-01-01T00:00:00.000Z', record: {}, ...over };
}

describe('deleting runs', () => {
  it("removes every record of the run, an unfinished attempt's included, and nothing of another run", () => {
    const { store, path, a, b } = twoRuns();
    const before = counts(path);
    const bRows = rowsOfRun(path, b);
    const deletion = store.deleteRun(a);
    store.close();
    assert.equal(deletion.rollouts, 1);
    assert.equal(deletion.modelCalls, 5, "four turns and the unfinished attempt's call");
    assert.ok(deletion.events >= 2);
    assert.equal(deletion.detections, 1);
    assert.equal(rowsOfRun(path, a), 0);
    assert.equal(rowsOfRun(path, b), bRows, "run B's records untouched");
    const after = counts(path);
    assert.equal(after.runs, before.runs - 1);
    assert.equal(after.model_calls, before.model_calls - 5);
    assert.equal(after.detections, 0);
  });

  it('keeps a task version another run still uses, and deletes it with the last run that does', () => {
    const { store, path, a, b } = twoRuns();
    // Both runs ran synthetic task 0 in the same version.
    const shared = counts(path).tasks;
    assert.equal(store.deleteRun(a).tasks, 0, 'run B still uses the task run A ran');
    assert.equal(counts(path).tasks, shared);
    assert.equal(store.deleteRun(b).tasks, 3);
    store.close();
    assert.equal(counts(path).tasks, 0);
  });

  it('refuses a run a live process executes, deleting nothing, and one deleted cannot be taken up again', () => {
    const { store, path, a } = twoRuns();
    const lease = store.acquireLease(a);
    const before = counts(path);
    assert.throws(() => store.deleteRun(a), (error: unknown) => error instanceof InputError && /being executed by process \d+/.test(error.message));
    assert.deepEqual(counts(path), before);
    lease.release();
    store.deleteRun(a);
    // A resume that read the run before it was deleted stops at the lease instead of writing orphans.
    assert.throws(() => store.acquireLease(a), (error: unknown) => error instanceof InputError && /no longer in the store/.test(error.message));
    store.close();
  });

  it("refuses a run with expert labels unless told, then deletes them, a preference naming its rollout from another run's label included", () => {
    const { store, path, a, b, rolloutA } = twoRuns();
    const rolloutB = store.rollouts(b)[0]!.id;
    store.appendReviewLabel(label({ id: 'lb_1', runId: a, rolloutId: rolloutA }));
    store.appendReviewLabel(label({ id: 'lb_2', runId: b, rolloutId: rolloutB, kind: 'preference', otherRolloutId: rolloutA }));
    store.appendReviewLabel(label({ id: 'lb_3', runId: b, rolloutId: rolloutB }));
    const before = counts(path);
    assert.throws(() => store.deleteRun(a), (error: unknown) => error instanceof InputError && /2 expert labels and 0 review queues/.test(error.message) && /--with-labels/.test(error.expected ?? ''));
    assert.deepEqual(counts(path), before, 'nothing deleted');
    assert.equal(store.deleteRun(a, { withLabels: true }).labels, 2);
    assert.deepEqual(store.reviewLabels({ runId: b }).map((l) => l.id), ['lb_3']);
    store.close();
  });

  it('a dry run counts exactly what the deletion then removes, and removes nothing', () => {
    const { store, path, a } = twoRuns();
    const before = counts(path);
    const dry = store.deleteRun(a, { dryRun: true });
    assert.deepEqual(counts(path), before);
    assert.deepEqual(store.deleteRun(a), dry);
    store.close();
  });

  it('finds a run\'s calls and events through an index added to older stores, not by reading every run\'s', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-delete-')), 'old.db');
    openStore(path, { migrations: STORE_MIGRATIONS.filter((m) => m.version <= 4) }).close();
    openStore(path).close();
    const db = new Database(path, { readonly: true });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('run_x') as { detail: string }[]).map((r) => r.detail).join('; ');
    try {
      assert.match(plan('DELETE FROM model_calls WHERE run_id = ?'), /USING (COVERING )?INDEX calls_by_run/);
      assert.match(plan('DELETE FROM events WHERE run_id = ?'), /USING (COVERING )?INDEX events_by_run/);
      assert.match(plan('SELECT 1 FROM run_tasks WHERE hash = ?'), /USING (COVERING )?INDEX run_tasks_by_hash/);
    } finally {
      db.close();
    }
  });

  it('lists runs older than a time with what would keep them', () => {
    const { store, a, b } = twoRuns();
    store.appendReviewLabel(label({ id: 'lb_1', runId: b, rolloutId: store.rollouts(b)[0]!.id }));
    const listed = store.runsCreatedBefore('2030-01-01T00:00:00.000Z');
    assert.deepEqual(listed.map((r) => [r.id, r.expertWork.labels, r.executing]), [[a, 0, false], [b, 1, false]]);
    assert.deepEqual(store.runsCreatedBefore('2000-01-01T00:00:00.000Z'), []);
    store.close();
  });

  it('takes the run out of every listing at once, then removes its records in small transactions that another writer commits between', () => {
    const { store, path, a, b } = twoRuns();
    const dry = store.deleteRun(a, { dryRun: true });
    // A run executing beside the deletion, in another connection: it must never wait out a whole run's deletion.
    const beside = openStore(path);
    let commits = 0;
    let runListed = false;
    const deletion = store.deleteRun(a, {
      chunkRows: 2,
      between: () => {
        beside.commitRollout(scoredRollout({ id: `ro_beside_${commits}` as RolloutId, runId: b, epoch: 100 + commits }));
        commits++;
        runListed ||= beside.getRun(a) !== null;
      },
    });
    beside.close();
    assert.deepEqual(deletion, dry);
    assert.ok(commits >= 3, `the other writer committed ${commits} times while the run was deleted`);
    assert.equal(runListed, false, 'the run was gone before its records went');
    assert.equal(rowsOfRun(path, a), 0);
    assert.equal(store.rollouts(b).filter((r) => r.id.startsWith('ro_beside_')).length, commits);
    store.close();
  });

  it('finishes a deletion that stopped part-way when the run id is deleted again; store check names what it left meanwhile', () => {
    const { store, path, a } = twoRuns();
    const dry = store.deleteRun(a, { dryRun: true });
    let chunks = 0;
    assert.throws(
      () =>
        store.deleteRun(a, {
          chunkRows: 1,
          between: () => {
            if (++chunks === 2) throw new Error('killed');
          },
        }),
      /killed/,
    );
    assert.equal(store.getRun(a), null);
    assert.equal(store.hasRecordsOf(a), true);
    const check = checkStore(path);
    assert.ok(check.problems.some((p) => p.includes(`of run "${a}", which has no run record`) && p.includes('deleting the run id again removes them')), check.problems.join('\n'));
    const rest = store.deleteRun(a);
    assert.equal(rest.modelCalls + 2, dry.modelCalls, 'two calls went before it stopped');
    assert.deepEqual({ ...rest, modelCalls: dry.modelCalls, labels: dry.labels, reviewQueues: dry.reviewQueues, tasks: dry.tasks }, dry);
    assert.equal(rowsOfRun(path, a), 0);
    assert.equal(store.hasRecordsOf(a), false);
    assert.throws(() => store.deleteRun(a), (error: unknown) => error instanceof InputError && /no run "run_a"/.test(error.message));
    store.close();
  });

  it('refuses to vacuum while a live process executes a run in the store, naming it', () => {
    const { store, path, a, b } = twoRuns();
    store.deleteRun(a);
    const executing = openStore(path);
    const lease = executing.acquireLease(b);
    assert.throws(() => store.vacuum(), (error: unknown) => error instanceof InputError && error.where === '--vacuum' && new RegExp(`run ${b} is being executed by process ${process.pid}`).test(error.message));
    lease.release();
    executing.close();
    store.vacuum();
    store.close();
  });

  it('is refused on a store opened to read', () => {
    const { store, path, a } = twoRuns();
    store.close();
    const reader = openStore(path, { readOnly: true });
    assert.throws(() => reader.deleteRun(a), /opened only to read/);
    reader.close();
  });
});
