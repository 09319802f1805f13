import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InputError, SCHEMA_VERSION, type Rollout, type RolloutId, type RunId, type TaskId } from '../../core/index.ts';
import { groupAdvantages, groupRollouts, type AdvantageMethod } from './advantages.ts';

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
  it('keeps every member of a 60,000-rollout group, in order', () => {
    // Each member used to copy its whole group (quadratic: 50k rollouts took 30 s, 100k nearly two
    // minutes); appended in place it takes milliseconds. Speed is the bench's to measure; this pins the result.
    const rollouts = Array.from({ length: 60_000 }, (_, i) => rollout({ id: `r${i}`, epoch: i, seed: i, score: i % 3 }));
    const grouping = groupRollouts(rollouts, { method: 'grpo', groupBy: 'task' });
    assert.equal(grouping.groups.length, 1);
    assert.deepEqual(
      grouping.groups[0]?.members.map((m) => m.id),
      rollouts.map((r) => r.id),
    );
  });

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

  it('orders members of one epoch by id code point, not by the locale of the machine that exports', () => {
    // localeCompare sorts by the default locale's collation (case-folded here; other locales order letters otherwise),
    // so the same store exported on two machines gave rows and repetition ids in different orders.
    const ids = ['ro_b', 'ro_B', 'ro_a', 'ro_A', 'ro_\u00e9', 'ro_z'];
    const rollouts = ids.map((id, i) => rollout({ id, taskId: 't', seed: i, score: i % 2 }));
    const [group] = groupRollouts(rollouts, { method: 'grpo', groupBy: 'task' }).groups;
    assert.deepEqual(group?.members.map((r) => r.id), ['ro_A', 'ro_B', 'ro_a', 'ro_b', 'ro_z', 'ro_\u00e9']);
  });
});

/** A double as an exact fraction m / 2^e. */
function exactDouble(x: number): { m: bigint; e: number } {
  let e = 0;
  while (!Number.isInteger(x)) {
    x *= 2; // exact: doubling only changes the exponent
    e++;
  }
  return { m: BigInt(x), e };
}

/**
 * The published definitions in exact rational arithmetic (BigInt), rounded once at the end:
 * Dr. GRPO r − m; RLOO r − (Σ_{j≠i} r_j)/(n − 1); GRPO (r − m)/(s + ε) with the sample std s.
 */
function exactAdvantages(rewards: number[], method: AdvantageMethod, epsilon = 1e-6): number[] {
  const n = BigInt(rewards.length);
  const parts = rewards.map(exactDouble);
  const e = parts.reduce((max, p) => Math.max(max, p.e), 0);
  const ints = parts.map((p) => p.m << BigInt(e - p.e)); // r_i = ints[i] / 2^e
  const sum = ints.reduce((a, b) => a + b, 0n);
  const unit = 1n << BigInt(e);
  if (rewards.length < 2 || ints.every((v) => v === ints[0])) return rewards.map(() => 0);
  const ratio = (num: bigint, den: bigint) => {
    // num / den to a double, keeping 60 significant bits before the one rounding that matters
    const shift = Math.max(0, den.toString(2).length - num.toString(2).length + 64);
    // 2 ** shift overflows past 1023 (subnormal rewards need ~1,140): divide in exact steps while
    // the quotient stays normal, so only the last division rounds.
    let quotient = Number((num << BigInt(shift)) / den);
    let left = shift;
    for (; left > 960; left -= 960) quotient /= 2 ** 960;
    return quotient / 2 ** left;
  };
  switch (method) {
    case 'drgrpo':
      return ints.map((v) => ratio(v * n - sum, n * unit));
    case 'rloo':
      return ints.map((v) => ratio(v * (n - 1n) - (sum - v), (n - 1n) * unit));
    case 'grpo': {
      // s² = Σ (r_i − m)² / (n − 1) = Σ (n·r_i − Σ)² / (n² (n − 1))
      const squares = ints.reduce((a, v) => a + (v * n - sum) ** 2n, 0n);
      const std = Math.sqrt(ratio(squares, n * n * (n - 1n) * unit * unit));
      return ints.map((v) => ratio(v * n - sum, n * unit) / (std + epsilon));
    }
  }
}

function matchesExact(rewards: number[], method: AdvantageMethod): void {
  const expected = exactAdvantages(rewards, method);
  const actual = groupAdvantages(rewards, method);
  const largest = expected.reduce((max, e) => Math.max(max, Math.abs(e)), 0);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    assert.ok(Math.abs(a - e) <= 1e-12 * largest, `${method} member ${i} of ${rewards.length}: ${a}, exactly ${e}`);
  });
}

describe('group advantages (against exact arithmetic)', () => {
  const methods = ['grpo', 'drgrpo', 'rloo'] as const;

  it('agrees with the exact definitions on random groups of uneven size, with ties and offsets', () => {
    const reward = fc.oneof(fc.integer({ min: -4, max: 4 }).map((k) => k / 4), fc.double({ min: -10, max: 10, noNaN: true }));
    fc.assert(
      fc.property(fc.array(reward, { minLength: 1, maxLength: 40 }), fc.constantFrom(0, 1e3, -1e6, 1e9), fc.constantFrom(...methods), (rewards, offset, method) => {
        matchesExact(rewards.map((r) => r + offset), method);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees on subnormal rewards, where the exact value is far from 0 once divided by ε', () => {
    // Found by the property above: the exact reference once read 2 ** 1140 as Infinity and answered 0.
    for (const method of methods) matchesExact([0, -1e-323], method);
    assert.ok((groupAdvantages([0, -1e-323], 'grpo')[0] as number) > 0);
  });

  it('keeps small differences far from 0: a leave-one-out baseline near 1e16, a million rewards near 1e6', () => {
    // RLOO of 1e16, 1e16 + 2, 1e16 + 4: −3, 0, 3 (Σ − r_i loses them to rounding)
    assert.deepEqual(groupAdvantages([1e16, 1e16 + 2, 1e16 + 4], 'rloo'), [-3, 0, 3]);
    // Half a, half b: the mean is (a + b) / 2 exactly, so every deviation is ±h with h = (a − b) / 2
    // (exact, Sterbenz), s = h·√(n / (n − 1)), and RLOO's is ±h · n / (n − 1).
    const n = 1_000_000;
    const [a, b] = [1e6 + 0.3, 1e6 + 0.1];
    const million = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? a : b));
    const h = (a - b) / 2;
    const exact = { drgrpo: h, rloo: (h * n) / (n - 1), grpo: h / (h * Math.sqrt(n / (n - 1)) + 1e-6) };
    for (const method of methods) {
      const advantages = groupAdvantages(million, method);
      const worst = advantages.reduce((max, x, i) => Math.max(max, Math.abs(x - (i % 2 === 0 ? 1 : -1) * exact[method])), 0);
      assert.ok(worst <= 1e-12 * Math.abs(exact[method]), `${method}: off by ${worst} from ±${exact[method]}`);
    }
    // one reward an ulp above nine equal ones: the nine are below the mean, not above it
    const nearlyEqual = [...Array.from({ length: 9 }, () => 0.1), 0.1 + 2 ** -56];
    for (const method of methods) {
      const advantages = groupAdvantages(nearlyEqual, method);
      assert.ok(advantages.slice(0, 9).every((a) => a < 0) && (advantages[9] as number) > 0, `${method}: ${advantages.join(', ')}`);
    }
  });

  it('gives finite advantages for rewards near the largest double, and an error where the true value is not a double', () => {
    close(groupAdvantages([1e308, 1e308, 0], 'drgrpo').map((a) => a / 1e307), [10 / 3, 10 / 3, -20 / 3]);
    close(groupAdvantages([1e308, 1e308, 0], 'rloo').map((a) => a / 1e307), [5, 5, -10]);
    close(groupAdvantages([1e308, 1e308, 0], 'grpo'), [1 / Math.sqrt(3), 1 / Math.sqrt(3), -2 / Math.sqrt(3)]);
    assert.throws(() => groupAdvantages([-1.7e308, 1.7e308, 1.7e308], 'drgrpo'), (error: unknown) => error instanceof InputError && /reward 0 of the group.*overflows/.test(error.message));
  });

  it('refuses NaN and ±Infinity rewards, naming the member, instead of answering NaN', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      for (const method of methods) {
        assert.throws(() => groupAdvantages([0, 1, bad], method), (error: unknown) => error instanceof InputError && error.message.startsWith('reward 2 of the group') && /finite number/.test(error.message));
      }
    }
    const rollouts = [rollout({ id: 'a0', score: 1, reward: 0.5 }), rollout({ id: 'a1', epoch: 1, score: 0, reward: Number.NaN })];
    assert.throws(() => groupRollouts(rollouts, { method: 'grpo' }), (error: unknown) => error instanceof InputError && /^rollout a1 of run run_a \(group t#1\): the reward is NaN/.test(error.message));
  });

  it('never answers −0', () => {
    for (const method of methods) {
      for (const rewards of [[-0, 1, -1], [-0, -0], [0, -0, 0]]) {
        groupAdvantages(rewards, method).forEach((a, i) => assert.ok(!Object.is(a, -0), `${method} ${JSON.stringify(rewards)}: member ${i} is −0`));
      }
    }
  });
});
