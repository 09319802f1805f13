// Deleting runs, so a store that collects rollouts for weeks can be kept to the runs still wanted.
// A run is deleted whole (its rollouts, every attempt's model calls and events, detector findings,
// its stored tasks where no other run uses them) in one transaction, or not at all. Two things
// are never deleted by accident: a run a live process still executes (its lease says so), and
// what experts labelled, which costs people's time and cannot be made again.
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
  /** Count what would be deleted, then roll back: the same checks and counts, nothing removed. */
  dryRun?: boolean;
  lease?: LeaseOptions;
}

/** Carries a dry run's counts out of the transaction it rolls back. */
class RolledBack {
  constructor(readonly deletion: RunDeletion) {}
}

// The run's rollouts, by the index on run id; labels may also name them as the other side of a preference.
const RUN_ROLLOUTS = 'SELECT id FROM rollouts WHERE run_id = ?';
/** Review labels filed under the run or naming one of its rollouts (three run-id parameters). */
const RUN_REVIEW_LABELS = `review_labels WHERE run_id = ? OR rollout_id IN (${RUN_ROLLOUTS}) OR (other_rollout_id IS NOT NULL AND other_rollout_id IN (${RUN_ROLLOUTS}))`;

/** Labels and review queues on a run's rollouts, wherever the label was filed. */
export function expertWork(db: Database.Database, runId: string): ExpertWork {
  const count = (sql: string, ...params: string[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
  const labels = count(`SELECT COUNT(*) AS n FROM ${RUN_REVIEW_LABELS}`, runId, runId, runId) + count(`SELECT COUNT(*) AS n FROM labels WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId);
  return { labels, reviewQueues: count('SELECT COUNT(*) AS n FROM review_queues WHERE run_id = ?', runId) };
}

/**
 * Deletes `runId` and everything recorded for it, in one immediate transaction (so no process
 * takes the run's lease or labels one of its rollouts between the checks and the delete).
 * Refused, with nothing deleted, when the run is not there, a live process holds its lease, or it
 * has expert labels or review queues and `withLabels` is not set.
 */
export function deleteRunRecords(db: Database.Database, runId: string, options: DeleteRunOptions = {}): RunDeletion {
  try {
    return deleteInTransaction(db, runId, options);
  } catch (error) {
    if (error instanceof RolledBack) return error.deletion;
    throw error;
  }
}

function deleteInTransaction(db: Database.Database, runId: string, options: DeleteRunOptions): RunDeletion {
  return db.transaction((): RunDeletion => {
    if (db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) === undefined) {
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
    const run = (sql: string, ...params: string[]): number => db.prepare(sql).run(...params).changes;
    const deleted = {
      detections: run(`DELETE FROM detections WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId),
      labels:
        run(`DELETE FROM ${RUN_REVIEW_LABELS}`, runId, runId, runId) +
        run(`DELETE FROM labels WHERE rollout_id IN (${RUN_ROLLOUTS})`, runId),
    };
    const queues = `SELECT id FROM review_queues WHERE run_id = ?`;
    run(`DELETE FROM review_reservations WHERE queue_id IN (${queues})`, runId);
    run(`DELETE FROM review_items WHERE queue_id IN (${queues})`, runId);
    const reviewQueues = run('DELETE FROM review_queues WHERE run_id = ?', runId);
    // By run id, not through the rollouts table: an attempt that never finished has calls and events but no rollout row.
    const modelCalls = run('DELETE FROM model_calls WHERE run_id = ?', runId);
    const events = run('DELETE FROM events WHERE run_id = ?', runId);
    const rollouts = run('DELETE FROM rollouts WHERE run_id = ?', runId);
    const hashes = (db.prepare('SELECT DISTINCT hash FROM run_tasks WHERE run_id = ?').all(runId) as { hash: string }[]).map((r) => r.hash);
    run('DELETE FROM run_tasks WHERE run_id = ?', runId);
    let tasks = 0;
    const unused = db.prepare('DELETE FROM tasks WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM run_tasks WHERE hash = ?)');
    for (const hash of hashes) tasks += unused.run(hash, hash).changes;
    run('DELETE FROM run_leases WHERE run_id = ?', runId);
    run('DELETE FROM runs WHERE id = ?', runId);
    const deletion = { runId, rollouts, modelCalls, events, detections: deleted.detections, labels: deleted.labels, reviewQueues, tasks };
    if (options.dryRun) throw new RolledBack(deletion);
    return deletion;
  }).immediate();
}

/** Ids of runs created before `before` (an ISO time), oldest first. */
export function runsCreatedBefore(db: Database.Database, before: string): { id: string; createdAt: string; status: string }[] {
  return db.prepare('SELECT id, created_at AS createdAt, status FROM runs WHERE created_at < ? ORDER BY created_at, id').all(before) as { id: string; createdAt: string; status: string }[];
}
