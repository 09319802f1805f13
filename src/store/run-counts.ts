// A run's rollouts counted by SQL instead of read: summarising a run of 200k rollouts read every
// record (~1 GB and seconds for `gauntlet show`, seconds per viewer request). The counts come from
// the rollouts_outcomes index (layout version 6), which holds every column they need.
import type Database from 'better-sqlite3';
import { RolloutStatus, StoredDataError, TerminationReason, type Rollout, type RolloutCounts, type RolloutOutcome, type RunSummaryCounts } from '../core/index.ts';

/**
 * Scored rows whose record holds a damaged reward, as `damagedReward` (record-numbers.ts) finds it:
 * null where a number belongs in a reward term, the total (of a scored rollout with terms), the
 * verifier's score or one of its rewards. A subtree without "null" in its text is passed over
 * before its members are walked: 0.43 s over 200k records, where walking every one took 0.8 s and
 * the four substring searches `rolloutOutcomes` makes 0.68 s (and miss a damaged verifier reward).
 * `rollouts.json`, since json_each has a column named json.
 */
const DAMAGED_REWARD = `(status = 'scored' AND (
  (instr(json_extract(rollouts.json, '$.rewardTerms'), 'null') > 0 AND json_type(rollouts.json, '$.rewardTerms') = 'array'
    AND EXISTS (SELECT 1 FROM json_each(rollouts.json, '$.rewardTerms') term WHERE term.type = 'object' AND (json_type(term.value, '$.value') = 'null' OR json_type(term.value, '$.weight') = 'null')))
  OR (json_type(rollouts.json, '$.reward') = 'null' AND json_type(rollouts.json, '$.rewardTerms') = 'array' AND json_array_length(rollouts.json, '$.rewardTerms') > 0)
  OR (instr(json_extract(rollouts.json, '$.verifier'), 'null') > 0 AND json_type(rollouts.json, '$.verifier') = 'object' AND (json_type(rollouts.json, '$.verifier.score') = 'null'
    OR (json_type(rollouts.json, '$.verifier.rewards') = 'object' AND EXISTS (SELECT 1 FROM json_each(rollouts.json, '$.verifier.rewards') reward WHERE reward.type = 'null'))))))`;

/** The aggregate the score total is added up with. */
const ORDERED_SUM = 'gauntlet_ordered_sum';

/**
 * Registers the aggregate the score total is added with: plain JS addition, one value at a time,
 * in the order the query's ORDER BY gives. SQLite's SUM compensates for rounding, so its total
 * can differ in the last digit from a loop's.
 */
export function registerCountFunctions(db: Database.Database): void {
  db.aggregate(ORDERED_SUM, { start: 0, step: (total: number, value: number | null) => total + (value ?? 0) });
}

// One pass over the run's index entries, grouped by task and by every column a count depends on:
// the run's size is read once, and a few rows per task come back (one wide row of conditional
// sums per task measured twice as slow).
const GROUPS = `SELECT task_id, status, termination_reason, passed, typeof(score) AS score_type, MAX(abs(score)) AS largest, COUNT(*) AS n
  FROM rollouts WHERE run_id = ? GROUP BY task_id, status, termination_reason, passed, score_type ORDER BY task_id`;

interface GroupRow {
  task_id: string;
  status: unknown;
  termination_reason: unknown;
  passed: unknown;
  score_type: string;
  largest: number | null;
  n: number;
}

/** A stored row read as its record disagrees with (a damaged reward), or is checked against. */
interface ReadRow {
  id: string;
  task_id: string;
  status: string;
  termination_reason: string;
  passed: number | null;
  score: number | null;
  json: string;
}

/** Scored rollouts of a task, those that passed, those with a verdict. */
interface Tally {
  scored: number;
  passed: number;
  judged: number;
}

export interface CountContext {
  db: Database.Database;
  /** Where the store lives, for messages. */
  path: string;
  /** A stored rollout record as the store reads it (a damaged reward reads as an error). */
  readRollout: (json: string, id: string) => Rollout | null;
}

function outcomeOf(r: Rollout): RolloutOutcome {
  return { id: r.id, taskId: r.taskId, epoch: r.epoch, status: r.status, terminationReason: r.terminationReason, score: r.score, passed: r.passed, error: r.error };
}

/**
 * Counts as `rolloutSummaries` lists the rollouts: from the columns alone, and, as listing them
 * would, refusing a run with a record whose JSON does not parse (named). Checking that is a pass
 * over the records in SQLite (~0.25 s for 200k), still well under reading them.
 */
export function storedCounts(ctx: CountContext, runId: string): RolloutCounts {
  return ctx.db.transaction(() => {
    const bad = ctx.db.prepare(`SELECT id FROM rollouts WHERE run_id = ? AND NOT json_valid(json) LIMIT 1`).get(runId) as { id: string } | undefined;
    if (bad) throw notJson(ctx, `rollout ${bad.id}`);
    return count(ctx, runId, []);
  })();
}

function notJson(ctx: CountContext, what: string): StoredDataError {
  return new StoredDataError(`${ctx.path}: ${what}`, 'the stored record is not valid JSON', 'a row written by Gauntlet');
}

/**
 * Counts as `rollouts` reads the rollouts. Only the rows whose record reads otherwise than its
 * columns say are read: those stored as errors (for their errors) and scored ones whose reward is
 * damaged (they read as errors). All of it in one read transaction, so a run writing meanwhile
 * cannot make the parts disagree.
 */
export function summaryCounts(ctx: CountContext, runId: string): RunSummaryCounts {
  return ctx.db.transaction(() => {
    const rows = ctx.db
      .prepare(`SELECT id, task_id, status, termination_reason, passed, score, json FROM rollouts WHERE run_id = ? AND (status = 'error' OR ${DAMAGED_REWARD}) ORDER BY task_id, epoch`)
      .iterate(runId) as IterableIterator<ReadRow>;
    const damaged: ReadRow[] = [];
    const errorRollouts: RolloutOutcome[] = [];
    try {
      for (const row of rows) {
        const read = ctx.readRollout(row.json, row.id);
        if (read === null) continue;
        if (read.status === 'error') errorRollouts.push(outcomeOf(read));
        if (read.status === row.status) continue;
        if (row.status === 'scored' && read.status === 'error') damaged.push(row);
        else throw new StoredDataError(`${ctx.path}: rollout ${row.id}: status`, `is "${row.status}" where its record says "${read.status}"`, 'the status of the record it was written from (a row written by Gauntlet)');
      }
    } catch (error) {
      // SQLite says only "malformed JSON", of no row in particular: the record is named, as reading it would.
      if (!(error instanceof Error && /malformed JSON/i.test(error.message))) throw error;
      const bad = ctx.db.prepare(`SELECT id FROM rollouts WHERE run_id = ? AND NOT json_valid(json) ORDER BY task_id, epoch LIMIT 1`).get(runId) as { id: string } | undefined;
      throw notJson(ctx, bad ? `rollout ${bad.id}` : `a rollout of run ${runId}`);
    }
    return { ...count(ctx, runId, damaged), errorRollouts };
  })();
}

/** The counts over the run's columns, with each `damaged` row counted as the error it reads as. */
function count(ctx: CountContext, runId: string, damaged: readonly ReadRow[]): RolloutCounts {
  const byStatus = Object.fromEntries(RolloutStatus.options.map((s) => [s, 0])) as Record<RolloutStatus, number>;
  const terminationReasons = Object.fromEntries(TerminationReason.options.map((r) => [r, 0])) as Record<TerminationReason, number>;
  const misread = new Map<string, Tally>();
  for (const row of damaged) {
    const t = misread.get(row.task_id) ?? { scored: 0, passed: 0, judged: 0 };
    t.scored++;
    if (row.passed === 1) t.passed++;
    if (row.passed !== null) t.judged++;
    misread.set(row.task_id, t);
  }
  const totals = { rollouts: 0, passed: 0, judged: 0, withScore: 0 };
  const rates = { scored: { sum: 0, tasks: 0 }, judged: { sum: 0, tasks: 0 } };
  let task = null as { id: string; tally: Tally } | null;
  // Each task's rates added in task order, as summarise's loop adds them (a float sum depends on the order).
  const endTask = () => {
    if (!task) return;
    const less = misread.get(task.id) ?? { scored: 0, passed: 0, judged: 0 };
    const scored = task.tally.scored - less.scored;
    const passed = task.tally.passed - less.passed;
    const judged = task.tally.judged - less.judged;
    totals.passed += passed;
    totals.judged += judged;
    if (scored > 0) {
      rates.scored.sum += passed / scored;
      rates.scored.tasks++;
    }
    if (judged > 0) {
      rates.judged.sum += passed / judged;
      rates.judged.tasks++;
    }
  };
  let odd = false;
  for (const row of ctx.db.prepare(GROUPS).iterate(runId) as IterableIterator<GroupRow>) {
    const status = RolloutStatus.safeParse(row.status);
    const reason = TerminationReason.safeParse(row.termination_reason);
    if (!status.success || !reason.success || !(row.passed === null || row.passed === 0 || row.passed === 1) || !['null', 'real', 'integer'].includes(row.score_type) || row.largest === Infinity) {
      odd = true;
      break;
    }
    if (task?.id !== row.task_id) {
      endTask();
      task = { id: row.task_id, tally: { scored: 0, passed: 0, judged: 0 } };
    }
    totals.rollouts += row.n;
    byStatus[status.data] += row.n;
    terminationReasons[reason.data] += row.n;
    if (status.data !== 'scored') continue;
    task.tally.scored += row.n;
    if (row.passed === 1) task.tally.passed += row.n;
    if (row.passed !== null) task.tally.judged += row.n;
    if (row.score_type !== 'null') totals.withScore += row.n;
  }
  // After the loop: a statement cannot run while another iterates.
  if (odd) throw oddRow(ctx, runId);
  endTask();
  for (const row of damaged) {
    byStatus.scored--;
    byStatus.error++;
    terminationReasons[row.termination_reason as TerminationReason]--;
    terminationReasons.error++;
    if (row.score !== null) totals.withScore--;
  }
  const skipped = damaged.length > 0 ? ` AND id NOT IN (SELECT value FROM json_each(?))` : '';
  const params = damaged.length > 0 ? [runId, JSON.stringify(damaged.map((r) => r.id))] : [runId];
  const sum = ctx.db.prepare(`SELECT ${ORDERED_SUM}(score ORDER BY task_id, epoch) AS total FROM rollouts WHERE run_id = ? AND status = 'scored'${skipped}`).get(...params) as { total: number };
  return {
    ...totals,
    byStatus,
    terminationReasons,
    scoreSum: sum.total,
    taskMeanPassRate: rates.scored.tasks > 0 ? rates.scored.sum / rates.scored.tasks : null,
    taskMeanJudgedPassRate: rates.judged.tasks > 0 ? rates.judged.sum / rates.judged.tasks : null,
  };
}

/** A column value no Gauntlet writes: counting it would skew a rate without a word. */
const ODD_ROW = `(status NOT IN (${quoted(RolloutStatus.options)}) OR termination_reason NOT IN (${quoted(TerminationReason.options)})
  OR (passed IS NOT NULL AND passed NOT IN (0, 1)) OR typeof(score) NOT IN ('null', 'real', 'integer') OR abs(score) = 9e999)`;

function quoted(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(', ');
}

/** The first row with a column value no Gauntlet writes, named. */
function oddRow(ctx: CountContext, runId: string): StoredDataError {
  const row = ctx.db.prepare(`SELECT id, status, termination_reason, passed, score FROM rollouts WHERE run_id = ? AND ${ODD_ROW} ORDER BY task_id, epoch LIMIT 1`).get(runId) as
    | { id: string; status: unknown; termination_reason: unknown; passed: unknown; score: unknown }
    | undefined;
  const shown = (value: unknown) => (value === null ? 'NULL' : typeof value === 'number' ? String(value) : JSON.stringify(value));
  if (!row) return new StoredDataError(`${ctx.path}: rollouts of run ${runId}`, 'changed while they were counted', 'a store no process edits by hand');
  return new StoredDataError(
    `${ctx.path}: rollout ${row.id}`,
    `has status ${shown(row.status)}, termination_reason ${shown(row.termination_reason)}, passed ${shown(row.passed)}, score ${shown(row.score)}`,
    `a status, a termination reason, passed 0, 1 or NULL and a finite score or NULL (a row written by Gauntlet)`,
  );
}
