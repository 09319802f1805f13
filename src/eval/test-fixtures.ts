// Hand-built rollouts for the eval tests.
import { RunId } from '../core/index.ts';
import type { Rollout } from '../core/index.ts';
import { makeRollout } from './simulate.ts';
import type { RunInput, TaskMeta } from './tasks.ts';

export type Outcome = 'pass' | 'fail' | 'infra' | 'error' | 'cancel' | { score: number; passed: boolean; terminationReason?: Rollout['terminationReason'] };

/** One rollout per listed outcome, epochs 0, 1, 2 … in order. */
export function rolloutsFor(runId: string, taskId: string, outcomes: readonly Outcome[]): Rollout[] {
  return outcomes.map((o, epoch) => rolloutOf(runId, taskId, epoch, o));
}

export function rolloutOf(runId: string, taskId: string, epoch: number, outcome: Outcome, attempt = 1): Rollout {
  const base = { runId: RunId.parse(runId), taskId, epoch, model: `model-${runId}`, attempt };
  if (outcome === 'infra') return makeRollout({ ...base, status: 'infra_error', passed: null });
  if (outcome === 'cancel') return makeRollout({ ...base, status: 'cancelled', passed: null });
  if (outcome === 'error') return makeRollout({ ...base, status: 'error', passed: null });
  if (outcome === 'pass' || outcome === 'fail') return makeRollout({ ...base, status: 'scored', passed: outcome === 'pass' });
  return makeRollout({ ...base, status: 'scored', passed: outcome.passed, score: outcome.score, terminationReason: outcome.terminationReason ?? 'submitted' });
}

export function run(runId: string, byTask: Record<string, readonly Outcome[]>, model = `model-${runId}`): RunInput {
  return { runId, model, rollouts: Object.entries(byTask).flatMap(([task, outcomes]) => rolloutsFor(runId, task, outcomes)).map((r) => ({ ...r, model })) };
}

export function task(id: string, domain: string, difficulty = 'medium'): TaskMeta {
  return { id, env: domain, domain, difficulty };
}
