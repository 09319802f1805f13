import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../core/index.ts';
import { kvEnvironment, kvTask } from '../perturb/test-env.ts';
import { perturbedEpisodeOf } from './rollout.ts';

describe('a run perturbed with scaffold.budget', () => {
  it('scales the run’s --max-turns, which its unperturbed rollouts get, not the task’s own limit', () => {
    const config = RunConfig.parse({ envs: [kvTask.env], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, maxTurns: 6, perturbations: [{ id: 'scaffold.budget', params: { turns: 2 } }] });
    assert.notEqual(kvTask.limits.maxTurns, 6);
    assert.equal(perturbedEpisodeOf(config, kvEnvironment, kvTask)?.settings.maxTurns, 12);
    // Without --max-turns the task's own limit is the one scaled.
    const plain = RunConfig.parse({ envs: [kvTask.env], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, perturbations: [{ id: 'scaffold.budget', params: { turns: 2 } }] });
    assert.equal(perturbedEpisodeOf(plain, kvEnvironment, kvTask)?.settings.maxTurns, kvTask.limits.maxTurns * 2);
  });
});
