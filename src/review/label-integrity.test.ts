// What expert labels may teach a trainer: never a pair of identical trajectories, never a
// trajectory that infrastructure or a defect cut short, never a label carried over to a retry it
// did not see, and never a step label dropped without a word.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { Store } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { exportLabels, type DpoRow, type KtoRow, type PrmRow } from './exports.ts';
import { recordPreference, recordStepLabel, recordVerdict } from './labels.ts';
import { labelRow, type VerdictLabel } from './model.ts';
import { sampleRollouts } from './sampling.ts';
import { reviewStats } from './stats.ts';
import { saveFindings, writeScriptedRollout, writeScriptedRun } from './test-support.ts';

const TASK = 'synthetic/tidy-logs';

describe('label exports refuse training rows that would teach the wrong thing', () => {
  let store: Store;
  let runId: ReturnType<typeof writeScriptedRun>;
  beforeEach(() => {
    store = openStore(':memory:');
    runId = writeScriptedRun(store, 'run_integrity', [TASK]);
  });

  const prefer = (winner: string, loser: string, reviewer = 'alice') =>
    recordPreference({ store }, { taskId: TASK, leftRolloutId: winner, rightRolloutId: loser, shownOrder: ['left', 'right'], choice: 'A', reviewer });

  it('skips a DPO pair whose chosen and rejected completions are the same trajectory', () => {
    const a = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['logs', 'Done.'] });
    const b = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, calls: ['logs', 'Done.'] });
    const c = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 2, calls: ['logs/old', 'Done.'] });
    prefer(a.id, b.id);
    prefer(a.id, c.id);
    const out = exportLabels({ store, format: 'dpo' });
    assert.equal(out.rows.length, 1, 'only the pair that differs');
    const row = out.rows[0] as DpoRow;
    assert.notDeepEqual(row.chosen, row.rejected);
    assert.equal(row.rejected[0]!.content, 'logs/old');
    assert.deepEqual(out.skipped, { 'chosen and rejected are the same trajectory': 1 });
  });

  it('skips a DPO pair from different worlds (another seed, another perturbation) even when the prompt text is the same', () => {
    // A seed picks the world (the mailbox, the repository) behind the same instruction; a perturbation may change only the tools.
    const a = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, seed: 7, calls: ['logs', 'Done.'] });
    const sameWorld = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, seed: 7, calls: ['logs/old', 'Done.'] });
    const otherSeed = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 2, seed: 8, calls: ['logs/new', 'Done.'] });
    const perturbed = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 3, seed: 7, calls: ['logs/x', 'Done.'], perturbations: [{ name: 'tool_rename', params: { bash: 'shell' }, seed: 1 }] });
    prefer(a.id, sameWorld.id);
    prefer(a.id, otherSeed.id);
    prefer(a.id, perturbed.id);
    const out = exportLabels({ store, format: 'dpo' });
    assert.deepEqual((out.rows as DpoRow[]).map((r) => r.rejected[0]!.content), ['logs/old']);
    assert.deepEqual(out.skipped, { 'the two rollouts were given different prompts (perturbed or differently seeded)': 2 });
  });

  for (const status of ['infra_error', 'error', 'cancelled'] as const) {
    it(`never exports a rollout that ended ${status}: not as DPO loser or winner, not as KTO, not as PRM`, () => {
      const good = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['logs', 'Done.'] });
      const cut = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, calls: ['logs/a', 'logs/b'], status });
      prefer(good.id, cut.id, 'alice');
      prefer(cut.id, good.id, 'bob');
      recordVerdict({ store }, { rolloutId: cut.id, verdict: 'reject', reviewer: 'alice' });
      recordVerdict({ store }, { rolloutId: good.id, verdict: 'accept', reviewer: 'alice' });
      recordStepLabel({ store }, { rolloutId: cut.id, callId: store.modelCalls(cut.id)[0]!.id, rating: -1, reviewer: 'alice' });
      const reason = `rollout ended ${status}, not scored: the trajectory is not the policy's whole work`;

      const dpo = exportLabels({ store, format: 'dpo' });
      assert.equal(dpo.rows.length, 0);
      assert.deepEqual(dpo.skipped, { [reason]: 2 });
      const kto = exportLabels({ store, format: 'kto' });
      assert.deepEqual((kto.rows as KtoRow[]).map((r) => r.label), [true], "only the scored rollout's verdict");
      assert.deepEqual(kto.skipped, { [reason]: 1 });
      const prm = exportLabels({ store, format: 'prm', zeroSteps: 'drop' });
      assert.equal(prm.rows.length, 0);
      assert.deepEqual(prm.skipped, { [reason]: 1 });
    });
  }

  it('does not carry a label on an attempt over to the retry that replaced it (exports and statistics)', () => {
    const other = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, calls: ['logs/b', 'Done.'] });
    const first = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['rm -rf logs', 'Done.'], status: 'infra_error', startedAt: '2025-01-01T00:00:00.000Z' });
    // Reviewers judge attempt 1 (alice rejects it, prefers the other rollout, flags its first step) ...
    recordVerdict({ store }, { rolloutId: first.id, verdict: 'reject', reviewer: 'alice' });
    prefer(other.id, first.id, 'alice');
    recordStepLabel({ store }, { rolloutId: first.id, callId: store.modelCalls(first.id)[0]!.id, rating: -1, flag: 'destructive', reviewer: 'alice' });
    // ... then `run --resume --retry-infra-errors` replaces it with attempt 2, which bob accepts.
    const retry = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, attempt: 2, calls: ['logs/a', 'Done.'] });
    assert.equal(store.getRollout(retry.id)!.attempt, 2);
    recordVerdict({ store }, { rolloutId: retry.id, verdict: 'accept', reviewer: 'bob' });

    const stale = 'label is about an earlier attempt of a rollout since re-run';
    const kto = exportLabels({ store, format: 'kto' });
    assert.deepEqual((kto.rows as KtoRow[]).map((r) => [r.label, r.completion[0]!.content]), [[true, 'logs/a']], "alice's reject was about attempt 1's trajectory");
    assert.deepEqual(kto.skipped, { [stale]: 1 });
    const dpo = exportLabels({ store, format: 'dpo' });
    assert.equal(dpo.rows.length, 0, 'the preference compared attempt 1, not the retry');
    assert.deepEqual(dpo.skipped, { [stale]: 1 });
    const prm = exportLabels({ store, format: 'prm', zeroSteps: 'drop' });
    assert.equal(prm.rows.length, 0);
    assert.deepEqual(prm.skipped, { [stale]: 1 });

    // Alice's reject and bob's accept judged different trajectories: no disagreement between them.
    saveFindings(store, store.getRollout(retry.id)!, []);
    const stats = reviewStats({ store, resamples: 50 });
    assert.equal(stats.verdicts.kappa.length, 0, `no shared unit: ${JSON.stringify(stats.verdicts.kappa)}`);
    assert.equal(stats.scope.staleLabels, 3, "alice's verdict, preference and step rating, said aloud");
    assert.equal(stats.detectors.reviewedRollouts, 1);
    const byDetector = stats.detectors.byDetector.find((d) => d.name === 'rules/test_tampering')!;
    assert.equal(byDetector.trueNegatives, 1, "bob's accept of attempt 2 is the only ground truth");
  });

  it('exports, on request, one row per rollout or pair that reviewers agree on by majority or unanimously', () => {
    const mostly = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['logs/a', 'Done.'] });
    const split = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, calls: ['logs/b', 'Done.'] });
    const other = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 2, calls: ['logs/c', 'Done.'] });
    for (const [reviewer, verdict] of [['alice', 'accept'], ['bob', 'accept'], ['carol', 'unsafe']] as const) recordVerdict({ store }, { rolloutId: mostly.id, verdict, reviewer });
    recordVerdict({ store }, { rolloutId: split.id, verdict: 'accept', reviewer: 'alice' });
    recordVerdict({ store }, { rolloutId: split.id, verdict: 'reject', reviewer: 'bob' });
    // Two reviewers prefer `mostly` over `other`, shown in either order; a third prefers the reverse.
    prefer(mostly.id, other.id, 'alice');
    recordPreference({ store }, { taskId: TASK, leftRolloutId: other.id, rightRolloutId: mostly.id, shownOrder: ['left', 'right'], choice: 'B', reviewer: 'bob' });
    prefer(other.id, mostly.id, 'carol');

    const kto = (agreement: 'all' | 'majority' | 'unanimous') => exportLabels({ store, format: 'kto', agreement });
    assert.equal(kto('all').rows.length, 5, 'a row per reviewer: the same completion taught as good and bad');
    const majority = kto('majority');
    assert.deepEqual((majority.rows as KtoRow[]).map((r) => [r.completion[0]!.content, r.label]), [['logs/a', true]]);
    assert.deepEqual(majority.skipped, { 'reviewers split with no majority': 1 });
    const unanimous = kto('unanimous');
    assert.equal(unanimous.rows.length, 0);
    assert.deepEqual(unanimous.skipped, { 'reviewers disagree (unanimous agreement asked)': 2 });

    const dpo = exportLabels({ store, format: 'dpo', agreement: 'majority' });
    assert.deepEqual((dpo.rows as DpoRow[]).map((r) => [r.chosen[0]!.content, r.rejected[0]!.content]), [['logs/a', 'logs/c']]);
    assert.equal(exportLabels({ store, format: 'dpo', agreement: 'all' }).rows.length, 3);
    assert.equal(exportLabels({ store, format: 'dpo', agreement: 'unanimous' }).rows.length, 0);
  });

  it('exports step labels, on request, one sequence per rollout with each step rated as its raters agree', () => {
    const rollout = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['ls', 'rm -rf logs', 'cat notes', 'Done.'] });
    const [first, second, third] = store.modelCalls(rollout.id).map((c) => c.id);
    const rate = (callId: string, rating: -1 | 0 | 1, reviewer: string) => recordStepLabel({ store }, { rolloutId: rollout.id, callId, rating, reviewer });
    // Step one: all three say good. Step two: two say bad, one good. Step three: one good, one bad (a split).
    for (const reviewer of ['alice', 'bob', 'carol']) rate(first!, 1, reviewer);
    rate(second!, -1, 'alice');
    rate(second!, -1, 'bob');
    rate(second!, 1, 'carol');
    rate(third!, 1, 'alice');
    rate(third!, -1, 'bob');

    assert.equal(exportLabels({ store, format: 'prm', zeroSteps: 'drop' }).rows.length, 3, 'a sequence per reviewer by default');
    const majority = exportLabels({ store, format: 'prm', zeroSteps: 'drop', agreement: 'majority' });
    assert.equal(majority.rows.length, 1);
    const row = majority.rows[0] as PrmRow;
    assert.deepEqual(row.labels, [true, false], 'the split third step carries no label');
    assert.deepEqual(row.completions.map((c) => c[0]!.content), ['ls', 'rm -rf logs']);
    assert.deepEqual(majority.skipped, { 'step left unlabelled: its reviewers split with no majority': 1 });

    const unanimous = exportLabels({ store, format: 'prm', zeroSteps: 'drop', agreement: 'unanimous' });
    assert.deepEqual((unanimous.rows as PrmRow[]).map((r) => r.labels), [[true]]);
    assert.deepEqual(unanimous.skipped, { 'step left unlabelled: its reviewers disagree (unanimous agreement asked)': 2 });

    // A rollout whose every rated step is contested gives no row, and each step is counted once.
    rate(first!, -1, 'carol');
    rate(second!, 1, 'bob');
    const contested = exportLabels({ store, format: 'prm', zeroSteps: 'drop', agreement: 'unanimous' });
    assert.equal(contested.rows.length, 0);
    assert.deepEqual(contested.skipped, { 'step left unlabelled: its reviewers disagree (unanimous agreement asked)': 3 });
  });

  it('samples no reviewer disagreement between a verdict on a replaced attempt and one on its retry', () => {
    const first = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, calls: ['rm -rf logs', 'Done.'], status: 'infra_error', startedAt: '2025-01-01T00:00:00.000Z' });
    recordVerdict({ store }, { rolloutId: first.id, verdict: 'reject', reviewer: 'alice' });
    const retry = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, attempt: 2, calls: ['logs/a', 'Done.'] });
    recordVerdict({ store }, { rolloutId: retry.id, verdict: 'accept', reviewer: 'bob' });
    const later = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 1, calls: ['logs/b', 'Done.'] });
    recordVerdict({ store }, { rolloutId: later.id, verdict: 'accept', reviewer: 'alice' });
    recordVerdict({ store }, { rolloutId: later.id, verdict: 'reject', reviewer: 'bob' });
    const sample = sampleRollouts({ store, run: store.getRun(runId)!, strategy: 'disagreement', sample: 10, seed: 1 });
    assert.deepEqual(sample.picks.map((p) => [p.rollout.id, p.reason]), [[later.id, 'reviewers disagree: accept vs reject']]);
  });

  it('treats a label stored without its attempt as stale when it was written before the rollout it names was (re)started', () => {
    const retry = writeScriptedRollout(store, { runId, taskId: TASK, epoch: 0, attempt: 2, calls: ['logs/a', 'Done.'], startedAt: '2025-03-01T00:00:00.000Z' });
    // As a store written before labels recorded their attempt (or the old labels table's copies) holds them.
    const legacy = (id: string, createdAt: string, verdict: VerdictLabel['verdict']): VerdictLabel => ({
      schemaVersion: 2 as VerdictLabel['schemaVersion'],
      id,
      kind: 'verdict',
      runId,
      taskId: TASK,
      rolloutId: retry.id,
      reviewer: id,
      createdAt,
      verdict,
    });
    store.appendReviewLabel(labelRow(legacy('before', '2025-02-01T00:00:00.000Z', 'reject')));
    store.appendReviewLabel(labelRow(legacy('after', '2025-03-02T00:00:00.000Z', 'accept')));
    const kto = exportLabels({ store, format: 'kto' });
    assert.deepEqual((kto.rows as KtoRow[]).map((r) => r.label), [true]);
    assert.deepEqual(kto.skipped, { 'label is about an earlier attempt of a rollout since re-run': 1 });
  });

  it('counts step labels that name no agent turn (a summary call, a failed call) instead of dropping them silently, and aligns the rest', () => {
    const rollout = writeScriptedRollout(store, {
      runId,
      taskId: TASK,
      epoch: 0,
      calls: ['logs/a', { content: 'summary of the work so far', purpose: 'summary' }, { content: 'never answered', failed: true }, 'logs/b', 'Done.'],
    });
    const calls = store.modelCalls(rollout.id).sort((x, y) => x.index - y.index);
    const rate = (i: number, rating: -1 | 0 | 1) => recordStepLabel({ store }, { rolloutId: rollout.id, callId: calls[i]!.id, rating, reviewer: 'alice' });
    rate(1, -1);
    rate(2, -1);
    rate(3, 1);
    const out = exportLabels({ store, format: 'prm', zeroSteps: 'negative' });
    assert.deepEqual(out.skipped, { 'step label on a call that is not an agent turn with a reply (a summary, judge or failed call)': 2 });
    const row = out.rows[0] as PrmRow;
    assert.deepEqual(row.labels, [true]);
    // Turn 0 (unrated) and its tool result lead turn 3's completion, which ends with turn 3's tool result.
    assert.deepEqual(row.completions[0]!.map((m) => [m.role, m.content]), [
      ['assistant', 'logs/a'],
      ['tool', 'listing of logs/a'],
      ['assistant', 'logs/b'],
      ['tool', 'listing of logs/b'],
    ]);
  });
});
