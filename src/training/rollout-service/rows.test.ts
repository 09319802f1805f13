import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunConfig, SCHEMA_VERSION, GAUNTLET_VERSION, type RolloutId, type Run } from '../../core/index.ts';
import { resolveTarget } from '../export/index.ts';
import { EXPORT_RUN, plannedCalls, storedRollout } from '../export/testing.ts';
import { groupRows, type FinishedMember } from './rows.ts';

const run: Run = {
  schemaVersion: SCHEMA_VERSION,
  id: EXPORT_RUN,
  createdAt: '2026-01-01T00:00:00.000Z',
  gauntletVersion: GAUNTLET_VERSION,
  config: RunConfig.parse({ envs: ['keys'], model: 'synthetic', epochs: 2, concurrency: 1, seed: 11 }),
  status: 'running',
  finishedAt: null,
};

function group(plan: { temperature?: number; policyVersion?: string }): FinishedMember[] {
  return [0, 1].map((epoch) => {
    const id = `ro_g${epoch}` as RolloutId;
    return {
      rollout: storedRollout({ id, taskId: 'a', epoch, score: epoch, passed: epoch === 1, groupId: 'keys/a@w0' }),
      calls: plannedCalls(EXPORT_RUN, { rolloutId: id, turns: 2, seed: epoch, ...plan }, [1, 2, 3]),
    };
  });
}

test('a group a trainer cannot take is refused with the export’s reason, not thrown as our defect', () => {
  // prime-rl divides logits by the temperature: greedy calls would make its loss NaN.
  const greedy = groupRows(group({ temperature: 0, policyVersion: '3' }), { run, target: resolveTarget('prime-rl'), method: 'grpo' });
  assert.equal(greedy.ok, false);
  assert.equal(!greedy.ok && greedy.reason, 'invalid_temperature');
  assert.match(!greedy.ok ? greedy.detail : '', /ro_g0 .*temperature 0/);
  // TRL async subtracts the policy version from its step: a version that is no step number cannot go.
  const unversioned = groupRows(group({ temperature: 1, policyVersion: 'ckpt-a' }), { run, target: resolveTarget('trl', 'async'), method: 'grpo' });
  assert.equal(!unversioned.ok && unversioned.reason, 'no_policy_version');
  const fine = groupRows(group({ temperature: 1, policyVersion: '3' }), { run, target: resolveTarget('prime-rl'), method: 'grpo' });
  assert.equal(fine.ok, true);
});
