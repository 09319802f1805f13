import { hash } from 'node:crypto';
import { z } from 'zod';

export const RunId = z.string().min(1).brand<'RunId'>();
export type RunId = z.infer<typeof RunId>;
export const RolloutId = z.string().min(1).brand<'RolloutId'>();
export type RolloutId = z.infer<typeof RolloutId>;
export const ModelCallId = z.string().min(1).brand<'ModelCallId'>();
export type ModelCallId = z.infer<typeof ModelCallId>;
export const TaskId = z.string().min(1).brand<'TaskId'>();
export type TaskId = z.infer<typeof TaskId>;

function shortHash(...parts: (string | number)[]): string {
  // One-shot hash: a Hash object per id was a measurable share of every model call.
  return hash('sha256', parts.join('\u0000'), 'hex').slice(0, 16);
}

/** Rollout ids depend only on (run, task, epoch), so a resumed run finds the same ids. */
export function rolloutIdFor(runId: RunId, taskId: string, epoch: number): RolloutId {
  return `ro_${shortHash(runId, taskId, epoch)}` as RolloutId;
}

/** Model-call ids are positional within a rollout's attempt, so a replay gives identical ids. */
export function modelCallIdFor(rolloutId: RolloutId, attempt: number, index: number): ModelCallId {
  return `mc_${shortHash(rolloutId, attempt, index)}` as ModelCallId;
}

/** Run ids: sortable by creation time, with a random tail so two runs in one millisecond differ. */
export function newRunId(now: Date, random: () => number = Math.random): RunId {
  const stamp = now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14);
  const tail = Math.floor(random() * 0xffffff).toString(16).padStart(6, '0');
  return `run_${stamp}_${tail}` as RunId;
}
