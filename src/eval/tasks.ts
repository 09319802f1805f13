import type { Rollout, Task } from '../core/index.ts';
import type { EpochOutcome, TaskResult } from './schema.ts';

/** What the report needs to know about a task (a subset of core's Task, flattened). */
export interface TaskMeta {
  id: string;
  env: string;
  domain: string;
  difficulty: string;
}

export function taskMetaOf(task: Pick<Task, 'id' | 'env' | 'tags'>): TaskMeta {
  return { id: task.id, env: task.env, domain: task.tags.domain, difficulty: task.tags.difficulty };
}

/** One model's run: its rollouts as stored. */
export interface RunInput {
  runId: string;
  model: string;
  rollouts: readonly Rollout[];
}

/** A suite task for one model: its final rollout per epoch, in epoch order. */
export interface TaskRecord {
  meta: TaskMeta;
  finals: Rollout[];
  result: TaskResult;
}

/** Things about the input the report must mention rather than silently drop. */
export interface CollectNotes {
  /** Rollouts of tasks missing from the task list, by task id. */
  unlisted: Map<string, number>;
  /** Rollouts of excluded tasks (never scored). */
  excludedRollouts: number;
  /** Rollouts with the same task, epoch and attempt as another; the later one was kept. */
  duplicates: number;
  /** Ids of rollouts marked `scored` without a `passed` value; left out. */
  scoredWithoutVerdict: string[];
}

export interface CollectedRun {
  records: TaskRecord[];
  notes: CollectNotes;
}

function outcomeOf(rollout: Rollout): EpochOutcome {
  if (rollout.status === 'infra_error') return 'infra_error';
  if (rollout.status === 'cancelled') return 'cancelled';
  if (rollout.status === 'error') return 'error';
  return rollout.passed === true ? 'pass' : 'fail';
}

/**
 * Groups a run's rollouts by task and epoch and keeps the last attempt of each epoch (retries
 * after infra errors increment `attempt`), so a retried infra error is not counted twice.
 */
export function collectRun(run: RunInput, tasks: readonly TaskMeta[], excluded: ReadonlySet<string>): CollectedRun {
  const listed = new Set(tasks.map((t) => t.id));
  const notes: CollectNotes = { unlisted: new Map(), excludedRollouts: 0, duplicates: 0, scoredWithoutVerdict: [] };
  const byTask = new Map<string, Map<number, Rollout[]>>();
  for (const rollout of run.rollouts) {
    if (excluded.has(rollout.taskId)) {
      notes.excludedRollouts++;
      continue;
    }
    if (!listed.has(rollout.taskId)) {
      notes.unlisted.set(rollout.taskId, (notes.unlisted.get(rollout.taskId) ?? 0) + 1);
      continue;
    }
    if (rollout.status === 'scored' && rollout.passed === null) {
      notes.scoredWithoutVerdict.push(rollout.id);
      continue;
    }
    let epochs = byTask.get(rollout.taskId);
    if (!epochs) byTask.set(rollout.taskId, (epochs = new Map()));
    const attempts = epochs.get(rollout.epoch);
    if (attempts) attempts.push(rollout);
    else epochs.set(rollout.epoch, [rollout]);
  }

  const records: TaskRecord[] = [];
  for (const meta of tasks) {
    if (excluded.has(meta.id)) continue;
    const finals: Rollout[] = [];
    let retried = 0;
    const epochs = byTask.get(meta.id) ?? new Map<number, Rollout[]>();
    for (const epoch of [...epochs.keys()].sort((a, b) => a - b)) {
      const attempts = epochs.get(epoch) ?? [];
      let last = attempts[0] as Rollout;
      for (const attempt of attempts.slice(1)) {
        if (attempt.attempt === last.attempt) notes.duplicates++;
        if (attempt.attempt >= last.attempt) last = attempt;
      }
      for (const attempt of attempts) if (attempt !== last && attempt.status === 'infra_error' && attempt.attempt < last.attempt) retried++;
      finals.push(last);
    }
    records.push({ meta, finals, result: summarise(meta, finals, retried) });
  }
  return { records, notes };
}

function summarise(meta: TaskMeta, finals: readonly Rollout[], retried: number): TaskResult {
  let scored = 0;
  let passes = 0;
  let scoreSum = 0;
  let infraErrors = 0;
  let errors = 0;
  let cancelled = 0;
  const outcomes = finals.map(outcomeOf);
  for (const rollout of finals) {
    if (rollout.status === 'scored') {
      scored++;
      if (rollout.passed === true) passes++;
      // A verifier that gives no partial credit leaves score null: the verdict is the score.
      scoreSum += rollout.score ?? (rollout.passed === true ? 1 : 0);
    } else if (rollout.status === 'infra_error') infraErrors++;
    else if (rollout.status === 'error') errors++;
    else cancelled++;
  }
  return {
    id: meta.id,
    domain: meta.domain,
    difficulty: meta.difficulty,
    epochs: finals.length,
    scored,
    passes,
    passRate: scored > 0 ? passes / scored : null,
    meanScore: scored > 0 ? scoreSum / scored : null,
    infraErrors,
    errors,
    cancelled,
    retriedInfraErrors: retried,
    outcomes,
  };
}
