import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { InputError, type Rollout } from '../core/index.ts';
import { exportLabels, toJsonl, type DpoRow, type KtoRow, type PrmRow } from './exports.ts';
import { recordPreference, recordStepLabel, recordVerdict } from './labels.ts';
import { reviewStats } from './stats.ts';
import { openStore } from '../store/index.ts';
import { flag, reviewFixture, saveFindings, writeScriptedRollout, writeScriptedRun, type ReviewFixture } from './test-support.ts';

describe('label exports', () => {
  let fx: ReviewFixture;
  let oracle: Rollout[];
  before(async () => {
    fx = await reviewFixture();
    oracle = fx.store.rollouts(fx.oracleRun);
  });

  it('exports preferences as DPO {prompt, chosen, rejected}: the winner chosen, ties skipped and counted', () => {
    // The fixture's policies are deterministic (siblings' trajectories are identical), so the pair is scripted.
    const store = openStore(':memory:');
    const runId = writeScriptedRun(store, 'run_dpo', ['synthetic/tidy']);
    const a = writeScriptedRollout(store, { runId, taskId: 'synthetic/tidy', epoch: 0, calls: ['logs/a', 'logs/b', 'Done.'] });
    const b = writeScriptedRollout(store, { runId, taskId: 'synthetic/tidy', epoch: 1, calls: ['logs', 'Done.'] });
    // Shown b first (A) and a second (B); the reviewer picks B, so `a` wins.
    recordPreference({ store }, { taskId: a.taskId, leftRolloutId: a.id, rightRolloutId: b.id, shownOrder: ['right', 'left'], choice: 'B', reviewer: 'alice' });
    recordPreference({ store }, { taskId: a.taskId, leftRolloutId: a.id, rightRolloutId: b.id, shownOrder: ['left', 'right'], choice: 'tie', reviewer: 'bob' });
    const out = exportLabels({ store, format: 'dpo', runId });
    assert.equal(out.rows.length, 1);
    assert.deepEqual(out.skipped, { 'tie (DPO pairs need a winner)': 1 });
    const row = out.rows[0] as DpoRow;
    assert.deepEqual(Object.keys(row), ['prompt', 'chosen', 'rejected']);
    assert.deepEqual(row.prompt.map((m) => m.role), ['system', 'user']);
    // Every turn of the winner, each with the tool result that answered it; the loser's likewise.
    assert.deepEqual(row.chosen.map((m) => [m.role, m.content]), [
      ['assistant', 'logs/a'],
      ['tool', 'listing of logs/a'],
      ['assistant', 'logs/b'],
      ['tool', 'listing of logs/b'],
      ['assistant', 'Done.'],
    ]);
    assert.deepEqual(row.rejected.map((m) => m.content), ['logs', 'listing of logs', 'Done.']);
    assert.deepEqual(row.chosen[0]!.tool_calls?.map((t) => t.function.name), ['bash']);
    const lines = toJsonl(out.rows).trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]!), row);
    store.close();
  });

  it('exports verdicts as KTO {prompt, completion, label}: accept true, reject and unsafe false, one row per reviewer\'s current verdict', () => {
    const target = oracle[2]!;
    recordVerdict({ store: fx.store }, { rolloutId: target.id, verdict: 'reject', reviewer: 'carol' });
    recordVerdict({ store: fx.store }, { rolloutId: target.id, verdict: 'accept', reviewer: 'carol' }); // supersedes
    recordVerdict({ store: fx.store }, { rolloutId: target.id, verdict: 'unsafe', reviewer: 'dave' });
    const rows = exportLabels({ store: fx.store, format: 'kto', runId: fx.oracleRun }).rows as KtoRow[];
    assert.deepEqual(rows.map((r) => r.label), [true, false]);
    assert.deepEqual(Object.keys(rows[0]!), ['prompt', 'completion', 'label']);
    assert.equal(rows[0]!.completion[0]!.role, 'assistant');
  });

  it('exports step ratings as process-reward rows, with 0-rated steps mapped as asked', () => {
    const target = oracle.find((r) => r.stats.modelCalls >= 4)!;
    const calls = fx.store.modelCalls(target.id).filter((c) => c.attempt === target.attempt);
    const rate = (i: number, rating: -1 | 0 | 1) => recordStepLabel({ store: fx.store }, { rolloutId: target.id, callId: calls[i]!.id, rating, reviewer: 'erin' });
    rate(0, 1);
    rate(1, 0);
    rate(3, -1); // step 2 unrated: its messages join step 3's completion
    const prm = (zeroSteps: 'drop' | 'negative' | 'neutral') => exportLabels({ store: fx.store, format: 'prm', zeroSteps, runId: fx.oracleRun }).rows as PrmRow[];
    const negative = prm('negative')[0]!;
    assert.deepEqual(Object.keys(negative), ['prompt', 'completions', 'labels']);
    assert.deepEqual(negative.labels, [true, false, false]);
    assert.equal(negative.completions.length, 3);
    assert.deepEqual(prm('neutral')[0]!.labels, [true, null, false]);
    const dropped = prm('drop')[0]!;
    assert.deepEqual(dropped.labels, [true, false]);
    // Nothing is lost by dropping a label: the 0-rated step's messages lead the next completion.
    const count = (row: PrmRow) => row.completions.reduce((n, c) => n + c.length, 0);
    assert.equal(count(dropped), count(negative));
    assert.equal(dropped.completions[1]![0]!.tool_calls?.[0]?.id, calls[1]!.response!.message.toolCalls[0]?.id);
    assert.throws(() => exportLabels({ store: fx.store, format: 'prm' }), (e: unknown) => e instanceof InputError && e.where === 'zeroSteps');
  });
});

describe('review statistics', () => {
  it('reports alpha and pairwise kappa for verdicts, and detector precision and recall against experts', async () => {
    const fx = await reviewFixture();
    const rollouts = fx.store.rollouts(fx.oracleRun);
    // Three reviewers over four rollouts: alice and bob agree everywhere, carol differs on one.
    const verdicts: [number, string, 'accept' | 'reject' | 'unsafe'][] = [
      [0, 'alice', 'accept'], [0, 'bob', 'accept'], [0, 'carol', 'accept'],
      [1, 'alice', 'reject'], [1, 'bob', 'reject'], [1, 'carol', 'reject'],
      [2, 'alice', 'unsafe'], [2, 'bob', 'unsafe'], [2, 'carol', 'reject'],
      [3, 'alice', 'accept'], [3, 'bob', 'accept'],
    ];
    for (const [i, reviewer, verdict] of verdicts) recordVerdict({ store: fx.store }, { rolloutId: rollouts[i]!.id, verdict, reviewer });
    // Detectors flagged 1 (caught), 3 (a false alarm); missed 2 (experts found tampering at a step).
    saveFindings(fx.store, rollouts[0]!, []);
    saveFindings(fx.store, rollouts[1]!, [flag('test_tampering')]);
    saveFindings(fx.store, rollouts[2]!, []);
    saveFindings(fx.store, rollouts[3]!, [flag('test_tampering')]);
    const step = (i: number) => fx.store.modelCalls(rollouts[i]!.id)[0]!.id;
    recordStepLabel({ store: fx.store }, { rolloutId: rollouts[1]!.id, callId: step(1), rating: -1, flag: 'test_tampering', reviewer: 'alice' });
    recordStepLabel({ store: fx.store }, { rolloutId: rollouts[2]!.id, callId: step(2), rating: -1, flag: 'test_tampering', reviewer: 'bob' });
    recordStepLabel({ store: fx.store }, { rolloutId: rollouts[2]!.id, callId: step(2), rating: -1, reviewer: 'alice' });

    const stats = reviewStats({ store: fx.store, runId: fx.oracleRun, resamples: 200, seed: 1 });
    assert.equal(stats.verdicts.alpha.units, 4);
    assert.equal(stats.verdicts.alpha.reviewers, 3);
    assert.ok(stats.verdicts.alpha.alpha! > 0.5 && stats.verdicts.alpha.alpha! < 1);
    assert.ok(stats.verdicts.alpha.ci![0] <= stats.verdicts.alpha.alpha!);
    const kappa = Object.fromEntries(stats.verdicts.kappa.map((k) => [k.reviewers.join('+'), k]));
    assert.equal(kappa['alice+bob']!.kappa, 1);
    assert.equal(kappa['alice+bob']!.n, 4);
    assert.equal(kappa['alice+carol']!.n, 3);
    assert.ok(kappa['alice+carol']!.kappa! < 1);
    assert.equal(stats.steps.alpha.units, 1, 'only one step has two reviewers');
    const tampering = stats.detectors.byCategory.find((s) => s.name === 'test_tampering')!;
    assert.deepEqual([tampering.truePositives, tampering.falsePositives, tampering.falseNegatives, tampering.trueNegatives], [1, 1, 1, 1]);
    assert.equal(tampering.precision, 0.5);
    assert.equal(tampering.recall, 0.5);
    // Per detector, against majority verdicts: rollout 1 (reject) caught, 3 (accept) false alarm, 2 (unsafe/reject) missed.
    const rule = stats.detectors.byDetector.find((s) => s.name === 'rules/test_tampering')!;
    assert.deepEqual([rule.truePositives, rule.falsePositives, rule.falseNegatives, rule.trueNegatives], [1, 1, 1, 1]);
    assert.equal(stats.detectors.examinedRollouts, 4);
  });
});
