import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RolloutId, RolloutSummary, RunId } from '../core/index.ts';
import { scoreHistogram, trainingStepOf } from './summary.ts';

const row = (i: number, score: number): RolloutSummary => ({
  id: `ro_${i}` as RolloutId,
  runId: 'run_big' as RunId,
  taskId: 't',
  epoch: i,
  groupId: null,
  attempt: 1,
  status: 'scored',
  terminationReason: 'answered',
  score,
  passed: score >= 1,
  turns: 1,
  modelCalls: 1,
  toolCalls: 0,
  completionTokens: 1,
  durationMs: 1,
  perturbations: [],
});

describe('scoreHistogram', () => {
  it('bins the scores of a run of 300,000 rollouts (spreading them into Math.min overflowed the stack)', () => {
    const rows = Array.from({ length: 300_000 }, (_, i) => row(i, i % 4 === 0 ? 1 : i % 4 === 1 ? 0 : 0.55));
    const bins = scoreHistogram(rows);
    assert.equal(bins.length, 10);
    assert.equal(bins.reduce((n, b) => n + b.count, 0), 300_000);
    assert.deepEqual([bins[0]!.count, bins[5]!.count, bins[9]!.count], [75_000, 150_000, 75_000]);
  });

  it('widens its range to scores outside [0, 1]', () => {
    const bins = scoreHistogram([row(0, -1), row(1, 3)], 4);
    assert.deepEqual(bins.map((b) => [b.from, b.to, b.count]), [[-1, 0, 1], [0, 1, 0], [1, 2, 0], [2, 3, 1]]);
  });
});

describe('trainingStepOf', () => {
  const step = (policyVersion?: string) => trainingStepOf({ config: { policyVersion } as never });

  it('reads the last whole number of the policy version', () => {
    assert.deepEqual([step('step-1200'), step('ckpt_300'), step('1200'), step('v2-step-007-final'), step('final'), step(undefined)], [1200, 300, 1200, 7, null, null]);
  });

  it('reads a version with a long run of digits at once (the regex it replaced backtracked in cubic time: 9 s at 4,000 digits)', () => {
    assert.equal(step(`${'1'.repeat(100_000)}-step-42`), 42);
    assert.equal(step(`run-${'12a'.repeat(50_000)}`), 12);
  });

  it('gives no step for a number too large to hold exactly, rather than Infinity or a neighbouring step', () => {
    assert.equal(step(`step-${'9'.repeat(400)}`), null);
    assert.equal(step('step-9007199254740993'), null);
    assert.equal(step('step-9007199254740991'), Number.MAX_SAFE_INTEGER);
  });
});
