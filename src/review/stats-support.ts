// A small labelled store for the review-statistics tests: scripted rollouts of one task, written
// straight through the store, and labels recorded as the API records them.
import type { Rollout, RunId, Store } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { recordPreference, recordStepLabel, recordVerdict, type LabelContext } from './labels.ts';
import { writeScriptedRollout, writeScriptedRun } from './test-support.ts';

export interface LabelledStore {
  store: Store;
  runId: RunId;
  rollouts: Rollout[];
  ctx: LabelContext;
}

/** `rollouts` rollouts of one task, each with two reviewers' verdicts, step ratings and (per sibling pair) preferences, partly in agreement. */
export function labelledStore(options: { rollouts?: number } = {}): LabelledStore {
  const store = openStore(':memory:');
  const runId = writeScriptedRun(store, 'run_stats', ['synthetic/tidy']);
  const rollouts = Array.from({ length: options.rollouts ?? 8 }, (_, epoch) => writeScriptedRollout(store, { runId, taskId: 'synthetic/tidy', epoch, calls: ['logs', 'done'] }));
  let n = 0;
  const ctx: LabelContext = { store, now: () => new Date('2025-01-02T00:00:00Z'), newId: () => `lb_${String(n++).padStart(6, '0')}` };
  rollouts.forEach((rollout, i) => {
    recordVerdict(ctx, { rolloutId: rollout.id, verdict: i % 2 === 0 ? 'accept' : 'reject', reviewer: 'ana' });
    recordVerdict(ctx, { rolloutId: rollout.id, verdict: i % 3 === 0 ? 'reject' : i % 2 === 0 ? 'accept' : 'unsafe', reviewer: 'ben' });
    const callId = store.modelCalls(rollout.id)[0]!.id;
    recordStepLabel(ctx, { rolloutId: rollout.id, callId, rating: i % 3 === 0 ? 1 : -1, reviewer: 'ana' });
    recordStepLabel(ctx, { rolloutId: rollout.id, callId, rating: i % 4 === 0 ? 0 : i % 3 === 0 ? 1 : -1, reviewer: 'ben' });
  });
  for (let i = 0; i + 1 < rollouts.length; i += 2) {
    const [left, right] = [rollouts[i]!, rollouts[i + 1]!];
    for (const [reviewer, choice] of [['ana', i % 4 === 0 ? 'A' : 'B'], ['ben', 'A']] as const) {
      recordPreference(ctx, { taskId: left.taskId, leftRolloutId: left.id, rightRolloutId: right.id, shownOrder: ['left', 'right'], choice, reviewer });
    }
  }
  return { store, runId, rollouts, ctx };
}
