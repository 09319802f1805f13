import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../store/index.ts';
import { alphaWithInterval } from './agreement.ts';
import { recordPreference } from './labels.ts';
import { finishReviewStats, prepareReviewStats, reviewStats } from './stats.ts';
import { labelledStore } from './stats-support.ts';
import { writeScriptedRollout, writeScriptedRun } from './test-support.ts';

describe('reviewStats', () => {
  it('codes a preference by side of its pair, so reviewers who agree only by chance score near 0, not 0.46', () => {
    const store = openStore(':memory:');
    const runId = writeScriptedRun(store, 'run_prefs', ['synthetic/tidy']);
    const ids = Array.from({ length: 8 }, (_, epoch) => writeScriptedRollout(store, { runId, taskId: 'synthetic/tidy', epoch, calls: ['done'] }).id).sort();
    // Four pairs; ana prefers the first side of pairs 1 and 2, ben of pairs 1 and 3: they agree on half,
    // as two coin flips would. By side: o(first,first) = 2, o(second,second) = 2, o(first,second) =
    // o(second,first) = 2, n = 8, so alpha = 1 − 7·4/32 = 1/8, and kappa = (1/2 − 1/2)/(1 − 1/2) = 0.
    // Coded by rollout id, every pair brought its own two categories: alpha 6/13, kappa 3/7.
    const picks = { ana: [true, true, false, false], ben: [true, false, true, false] };
    for (const [reviewer, first] of Object.entries(picks)) {
      first.forEach((pickFirst, pair) => {
        const [left, right] = [ids[2 * pair]!, ids[2 * pair + 1]!];
        recordPreference({ store }, { taskId: 'synthetic/tidy', leftRolloutId: left, rightRolloutId: right, shownOrder: ['left', 'right'], choice: pickFirst ? 'A' : 'B', reviewer });
      });
    }
    const stats = reviewStats({ store, runId, resamples: 0 });
    assert.ok(Math.abs(stats.preferences.alpha.alpha! - 1 / 8) < 1e-12, `alpha ${stats.preferences.alpha.alpha}`);
    assert.equal(stats.preferences.kappa.length, 1);
    assert.equal(stats.preferences.kappa[0]!.kappa, 0);
    assert.equal(stats.preferences.alpha.units, 4);
  });

  it('is the sum of its parts: prepared on the store, finished with the bootstraps it asked for', () => {
    const { store, runId } = labelledStore();
    const prepared = prepareReviewStats({ store, runId, resamples: 300, seed: 5 });
    assert.deepEqual(prepared.jobs.map((j) => j.options.level), ['nominal', 'ordinal', 'nominal']);
    const finished = finishReviewStats(prepared, prepared.jobs.map((j) => alphaWithInterval(j.units, j.options)));
    assert.deepEqual(finished, reviewStats({ store, runId, resamples: 300, seed: 5 }));
    assert.throws(() => finishReviewStats(prepared, []), /0 alpha estimates for 3 blocks/);
  });

  it('has nothing to say, without failing, about a store with no labels, or one reviewer', () => {
    const { store, runId } = labelledStore({ rollouts: 2 });
    const empty = reviewStats({ store: openStore(':memory:'), resamples: 100 });
    for (const block of [empty.verdicts, empty.steps, empty.preferences]) {
      assert.deepEqual({ alpha: block.alpha.alpha, ci: block.alpha.ci, units: block.alpha.units, kappa: block.kappa }, { alpha: null, ci: null, units: 0, kappa: [] });
    }
    assert.equal(empty.scope.labels, 0);
    const lone = openStore(':memory:');
    const loneRun = writeScriptedRun(lone, 'run_lone', ['synthetic/tidy']);
    const rollout = writeScriptedRollout(lone, { runId: loneRun, taskId: 'synthetic/tidy', epoch: 0, calls: ['done'] });
    const other = writeScriptedRollout(lone, { runId: loneRun, taskId: 'synthetic/tidy', epoch: 1, calls: ['done'] });
    recordPreference({ store: lone }, { taskId: 'synthetic/tidy', leftRolloutId: rollout.id, rightRolloutId: other.id, shownOrder: ['left', 'right'], choice: 'A', reviewer: 'ana' });
    const one = reviewStats({ store: lone, resamples: 100 });
    assert.equal(one.preferences.alpha.alpha, null, 'one reviewer: nothing pairable');
    assert.equal(one.preferences.alpha.reviewers, 1);
    assert.ok(reviewStats({ store, runId, resamples: 100 }).verdicts.alpha.units === 2);
  });
});
