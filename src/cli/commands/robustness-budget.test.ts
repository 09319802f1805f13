import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePerturbations } from '../../perturb/index.ts';
import { kvEnvironment, kvTask } from '../../perturb/test-env.ts';
import { episodeOf } from './robustness-episodes.ts';

describe('gauntlet robustness with --max-turns', () => {
  it('gives a scaffold.budget arm a multiple of the baseline’s turn limit, not of the task’s', () => {
    const resolved = resolvePerturbations(['scaffold.budget:turns=2']);
    const arm = episodeOf({ definition: kvEnvironment, task: kvTask, perturbSeed: 0, resolved, maxTurns: 6 });
    // The baseline plays 6 turns (--max-turns 6); the doubled arm must get 12, not 2 × the task's own limit.
    assert.equal(arm.settings.maxTurns, 12);
    assert.notEqual(kvTask.limits.maxTurns, 6);
  });
});
