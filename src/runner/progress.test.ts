// The run's progress counts: what the bar, the metrics and `queue status` report while a run goes on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRunId } from '../core/index.ts';
import { makeRollout } from '../eval/simulate.ts';
import { countFinished, type RunProgress } from './run.ts';

describe('the run progress', () => {
  it('counts a pass only for a scored rollout, whatever an infra error record says beside it', () => {
    const progress: RunProgress = { total: 3, done: 0, scored: 0, passed: 0, infraErrors: 0, errors: 0, tokens: 0 };
    const runId = newRunId(new Date('2026-12-07T00:00:00Z'));
    countFinished(progress, makeRollout({ runId, taskId: 'sim/a', epoch: 0, model: 'm', status: 'scored', passed: true }));
    countFinished(progress, makeRollout({ runId, taskId: 'sim/b', epoch: 0, model: 'm', status: 'infra_error', passed: true }));
    countFinished(progress, makeRollout({ runId, taskId: 'sim/c', epoch: 0, model: 'm', status: 'error', passed: true }));
    assert.deepEqual({ done: progress.done, scored: progress.scored, passed: progress.passed, infraErrors: progress.infraErrors, errors: progress.errors }, { done: 3, scored: 1, passed: 1, infraErrors: 1, errors: 1 });
  });
});
