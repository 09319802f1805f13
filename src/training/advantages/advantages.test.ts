import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SCHEMA_VERSION, type Rollout, type RolloutId, type RunId, type TaskId } from '../../core/index.ts';
import { groupAdvantages, groupRollouts } from './advantages.ts';

function close(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - (expected[i] as number)) < 1e-9, `index ${i}: ${a} ≠ ${expected[i]}`));
}

function rollout(over: Omit<Partial<Rollout>, 'id' | 'taskId'> & { id: string; taskId?: string }): Rollout {
  return {
    schemaVersion: SCHEMA_VERSION,
    runId: 'run_a' as RunId,
    env: 'e',
    epoch: 0,
    attempt: 1,
    seed: 1,
    model: 'm',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: 1,
    passed: true,
    rewardTerms: [],
    verifier: null,
    error: null,
    finalAnswer: null,
    stats: { turns: 1, modelCalls: 1, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    ...over,
    id: over.id as RolloutId,
    taskId: (over.taskId ?? 't') as TaskId,
  };
}

describe('group advantages (hand-worked)', () => {
  // rewards 1, 0, 0, 1: mean 0.5; sample std √((4 · 0.25) / 3) = √(1/3) = 0.5773502692
  it('GRPO divides by the sample std plus ε', () => {
    const s = Math.sqrt(1 / 3) + 1e-6;
    close(groupAdvantages([1, 0, 0, 1], 'grpo'), [0.5 / s, -0.5 / s, -0.5 / s, 0.5 / s]);
    close(groupAdvantages([1, 0, 0, 1], 'grpo').map((a) => Math.round(a * 1e6) / 1e6), [0.866024, -0.866024, -0.866024, 0.866024]);
    // 0.2, 0.5, 0.8: mean 0.5, sample std √((0.09 + 0 + 0.09) / 2) = 0.3
    close(groupAdvantages([0.2, 0.5, 0.8], 'grpo'), [-0.3 / 0.300001, 0, 0.3 / 0.300001]);
  });

  it('Dr. GRPO subtracts the mean only', () => {
    close(groupAdvantages([1, 0, 0, 1], 'drgrpo'), [0.5, -0.5, -0.5, 0.5]);
    close(groupAdvantages([0.2, 0.5, 0.8], 'drgrpo'), [-0.3, 0, 0.3]);
  });

  it('RLOO subtracts the mean of the others', () => {
    // 1 − (0+0+1)/3 = 2/3; 0 − (1+0+1)/3 = −2/3
    close(groupAdvantages([1, 0, 0, 1], 'rloo'), [2 / 3, -2 / 3, -2 / 3, 2 / 3]);
    // 0.2 − (0.5+0.8)/2 = −0.45; 0.5 − 0.5 = 0; 0.8 − 0.35 = 0.45
    close(groupAdvantages([0.2, 0.5, 0.8], 'rloo'), [-0.45, 0, 0.45]);
  });

  it('gives 0 to a group of one and to a group whose rewards are all equal, exactly', () => {
    for (const method of ['grpo', 'drgrpo', 'rloo'] as const) {
      assert.deepEqual(groupAdvantages([0.7], method), [0]);
      assert.deepEqual(groupAdvantages([0.1, 0.1, 0.1], method), [0, 0, 0]);
    }
  });
});

describe('grouping rollouts', () => {
  it('groups scored rollouts by task and seed, leaves infra errors out and reports singletons', () => {
    const rollouts = [
      rollout({ id: 'a0', taskId: 'a', seed: 5, epoch: 0, score: 1 }),
      rollout({ id: 'a1', taskId: 'a', seed: 5, epoch: 1, score: 0 }),
      rollout({ id: 'a2', taskId: 'a', seed: 5, epoch: 2, status: 'infra_error', terminationReason: 'infra_error', score: null, passed: null }),
      rollout({ id: 'b0', taskId: 'b', seed: 9, score: 0.5 }),
    ];
    const grouping = groupRollouts(rollouts, { method: 'drgrpo' });
    assert.deepEqual(grouping.groups.map((g) => [g.id, g.members.map((m) => m.id), g.advantages]), [
      ['a#5', ['a0', 'a1'], [0.5, -0.5]],
      ['b#9', ['b0'], [0]],
    ]);
    assert.deepEqual(grouping.excluded.map((e) => [e.rollout.id, e.reason]), [['a2', 'infra_error']]);
    assert.deepEqual(grouping.singletons, ['b#9']);
  });

  it('uses groupId when a rollout has one, and can group by task alone', () => {
    const rollouts = [rollout({ id: 'x', seed: 1, score: 1 }), rollout({ id: 'y', seed: 2, score: 0, groupId: 'g1' }), rollout({ id: 'z', seed: 3, score: 0 })];
    assert.deepEqual(groupRollouts(rollouts, { method: 'grpo' }).groups.map((g) => g.id), ['t#1', 'g1', 't#3']);
    const byTask = groupRollouts(rollouts, { method: 'rloo', groupBy: 'task' });
    assert.equal(byTask.groups.length, 1);
    close(byTask.groups[0]!.advantages, [1, -0.5, -0.5]);
  });
});
