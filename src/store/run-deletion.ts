// Deleting runs, so a store that collects rollouts for weeks can be kept to the runs still wanted.
// A run goes whole: its rollouts, every attempt's model calls and events, detector findings, its
// stored tasks where no other run uses them. Two things are never deleted by accident: a run a live
// process still executes (its lease says so), and what experts labelled, which costs people's time
// and cannot be made again. The checks and the run's own row go in one transaction, so the run
// leaves every listing at once and no process can resume it; its records then follow in small
// transactions with pauses between them, because SQLite has one writer at a time and a run
// writing to the same store waits for the lock only so long (deleting a run of 200k rollouts in
// one transaction held it for over 5 s, and stopped the run beside it as "locked").
import type Database from 'better-sqlite3';
import { InputError, type RunId } from '../core/index.ts';
import { leaseHolder, type LeaseOptions } from './lease.ts';

/** What deleting one run removed, row counts by kind. */
export interface RunDeletion {
  runId: string;
  rollouts: number;
  modelCalls: number;
  events: number;
  detections: number;
  /** Expert labels (review labels, and labels of the first store layout) on the run's rollouts. */
  labels: number;
  reviewQueues: number;
  /** Stored task versions no other run refers to. */
  tasks: number;
}

/** What a run holds that people made: the reason it is kept unless the caller says otherwise. */
export interface ExpertWork {
  labels: number;
  reviewQueues: number;
}

export interface DeleteRunOptions {
  /** Delete the run's expert labels and review queues with it (refused otherwise when it has any). */
  withLabels?: boolean;
  /** Count what would be deleted: the same checks and counts, nothing removed. */
  dryRun?: boolean;
  lease?: LeaseOptions;
  /** Rows of one kind removed per transaction once the run's row is gone. */
  chunkRows?: number;
  /** Between those transactions, given how long the last one held the write lock: by default a pause as long, so waiting writers get their turn. */
  between?: (heldMs: number) => void;
}

// The run's rollouts, by the index on run id; labels may also name them as the other side of a preference.
const RUN_ROLLOUTS = 'SELECT id FROM rollouts WHERE run_id = ?';
/** Review labels filed under the run or naming one of its rollouts (three run-id parameters). */
const RUN_REVIEW_LABELS = `review_labels WHERE run_id = ? OR rollout_id IN (${RUN_ROLLOUTS}) OR (other_rollout_id IS NOT NULL AND other_rollout_id IN (${RUN_ROLLOUTS}))`;
/** Task versions the run stored that no other run uses (two run-id parameters). */
const UNSHARED_TASKS = 'SELECT DISTINCT hash FROM run_tasks WHERE run_id = ? AND hash NOT IN (SELECT hash FROM run_tasks WHERE run_id <> ?)';

/** Labels and review queues on a run's rollouts, wherever the label was filed. */
export function expertWork(db: Database.Database, runId: string): ExpertWork {
  const count = (sql: string, ...params: string[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
  const labels = count(`SELECT COUNT(*) AS n FROM ${RUN_REVIEW_LABELS}`, runId, runId, runId) + count(`SELECT COUNT(*) AS n FROM labels WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId);
  return { labels, reviewQueues: count('SELECT COUNT(*) AS n FROM review_queues WHERE run_id = ?', runId) };
}

const CHUNK_ROWS = 500;

/** Blocks this thread for `ms`: a deleting command has nothing else to do meanwhile. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(ms, 1_000));
}

/**
 * Deletes `runId` and everything recorded for it. The checks and the run's own rows (the run, its
 * lease, tasks, labels and review queues) go in one immediate transaction, so no process takes
 * the run's lease or labels one of its rollouts in between, and once it commits the run is gone
 * from every listing and cannot be resumed; its model calls, events, findings and rollouts follow
 * in transactions of `chunkRows` rows. Should the process stop between them, what is left has no
 * run row (`store check` names it) and deleting the run id again removes it.
 * Refused, with nothing deleted, when the run is not there (nor anything left of it), a live
 * process holds its lease, or it has expert labels or review queues and `withLabels` is not set.
 * A dry run makes the same checks and counts in one read, deleting nothing and taking no lock.
 */
export function deleteRunRecords(db: Database.Database, runId: string, options: DeleteRunOptions = {}): RunDeletion {
  const count = (sql: string, ...params: string[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
  const checked = (): { present: boolean } => {
    const present = db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
    if (!present) {
      // What a deletion that stopped half-way left: the rest goes now.
      if (leftOf(db, runId) > 0) return { present };
      throw new InputError('RUN_ID', `no run "${runId}" in the store`, 'a run id shown by `gauntlet runs`');
    }
    const holder = leaseHolder(db, runId as RunId, options.lease); // an id the runs table holds
    if (holder?.alive) {
      throw new InputError('RUN_ID', `run ${runId} is being executed by process ${holder.pid} on ${holder.host} (lease renewed ${holder.renewedAt})`, 'that process to finish or be stopped before its run is deleted');
    }
    const work = expertWork(db, runId);
    if ((work.labels > 0 || work.reviewQueues > 0) && !options.withLabels) {
      throw new InputError(
        'RUN_ID',
        `run ${runId} has ${work.labels} expert label${work.labels === 1 ? '' : 's'} and ${work.reviewQueues} review queue${work.reviewQueues === 1 ? '' : 's'}, which deleting it would lose`,
        '--with-labels to delete them with the run (export them first with `gauntlet export-labels`), or keep the run',
      );
    }
    return { present };
  };
  if (options.dryRun) {
    return db.transaction((): RunDeletion => {
      checked();
      const work = expertWork(db, runId);
      return {
        runId,
        rollouts: count('SELECT COUNT(*) AS n FROM rollouts WHERE run_id = ?', runId),
        modelCalls: count('SELECT COUNT(*) AS n FROM model_calls WHERE run_id = ?', runId),
        events: count('SELECT COUNT(*) AS n FROM events WHERE run_id = ?', runId),
        detections: count(`SELECT COUNT(*) AS n FROM detections WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId),
        labels: work.labels,
        reviewQueues: work.reviewQueues,
        tasks: count(`SELECT COUNT(*) AS n FROM tasks WHERE hash IN (${UNSHARED_TASKS})`, runId, runId),
      };
    })();
  }
  const own = db.transaction(() => {
    checked();
    const run = (sql: string, ...params: string[]): number => db.prepare(sql).run(...params).changes;
    const labels = run(`DELETE FROM ${RUN_REVIEW_LABELS}`, runId, runId, runId) + run(`DELETE FROM labels WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId);
    const queues = `SELECT id FROM review_queues WHERE run_id = ?`;
    run(`DELETE FROM review_reservations WHERE queue_id IN (${queues})`, runId);
    run(`DELETE FROM review_items WHERE queue_id IN (${queues})`, runId);
    const reviewQueues = run('DELETE FROM review_queues WHERE run_id = ?', runId);
    const tasks = run(`DELETE FROM tasks WHERE hash IN (${UNSHARED_TASKS})`, runId, runId);
    run('DELETE FROM run_tasks WHERE run_id = ?', runId);
    run('DELETE FROM run_leases WHERE run_id = ?', runId);
    run('DELETE FROM runs WHERE id = ?', runId);
    return { labels, reviewQueues, tasks };
  }).immediate();
  const { modelCalls, events } = removeRecords(db, runId, options);
  const { rollouts, detections } = removeRolloutsOf(db, runId, options);
  return { runId, rollouts, modelCalls, events, detections, labels: own.labels, reviewQueues: own.reviewQueues, tasks: own.tasks };
}

/** Rows of a run without its run row: what a deletion that stopped half-way left. */
export function leftOf(db: Database.Database, runId: string): number {
  const any = (table: string) => (db.prepare(`SELECT 1 FROM ${table} WHERE run_id = ? LIMIT 1`).get(runId) === undefined ? 0 : 1);
  return any('model_calls') + any('events') + any('rollouts');
}

/** Runs `step` (one transaction, its rows removed) until it removes nothing, giving way between transactions. */
function inChunks(db: Database.Database, options: DeleteRunOptions, step: (rows: number) => number): number {
  const rows = options.chunkRows ?? CHUNK_ROWS;
  const between = options.between ?? pause;
  let removed = 0;
  for (;;) {
    const started = performance.now();
    const changes = db.transaction(() => step(rows)).immediate();
    if (changes === 0) return removed;
    removed += changes;
    between(performance.now() - started);
  }
}

/** The run's model calls and events, by run id: an attempt that never finished has them but no rollout row. */
function removeRecords(db: Database.Database, runId: string, options: DeleteRunOptions): { modelCalls: number; events: number } {
  const calls = db.prepare('DELETE FROM model_calls WHERE rowid IN (SELECT rowid FROM model_calls WHERE run_id = ? LIMIT ?)');
  const events = db.prepare('DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE run_id = ? LIMIT ?)');
  return { modelCalls: inChunks(db, options, (rows) => calls.run(runId, rows).changes), events: inChunks(db, options, (rows) => events.run(runId, rows).changes) };
}

/** The run's rollouts, each with its detector findings. */
function removeRolloutsOf(db: Database.Database, runId: string, options: DeleteRunOptions): { rollouts: number; detections: number } {
  const ids = db.prepare('SELECT id FROM rollouts WHERE run_id = ? LIMIT ?').pluck();
  const findings = db.prepare('DELETE FROM detections WHERE rollout_id IN (SELECT value FROM json_each(?))');
  const rollouts = db.prepare('DELETE FROM rollouts WHERE id IN (SELECT value FROM json_each(?))');
  let detections = 0;
  const removed = inChunks(db, options, (rows) => {
    const chunk = JSON.stringify(ids.all(runId, rows));
    detections += findings.run(chunk).changes;
    return rollouts.run(chunk).changes;
  });
  return { rollouts: removed, detections };
}

/** Ids of runs created before `before` (an ISO time), oldest first. */
export function runsCreatedBefore(db: Database.Database, before: string): { id: string; createdAt: string; status: string }[] {
  return db.prepare('SELECT id, created_at AS createdAt, status FROM runs WHERE created_at < ? ORDER BY created_at, id').all(before) as { id: string; createdAt: string; status: string }[];
}
