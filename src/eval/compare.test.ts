import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Comparison, compareReports, compareRuns } from './compare.ts';
import { buildReport } from './report.ts';
import { run, task } from './test-fixtures.ts';
import type { Outcome } from './test-fixtures.ts';

/** `count` tasks in `domain`, A's and B's single-epoch outcomes given per task. */
function tasksOf(domain: string, count: number) {
  return Array.from({ length: count }, (_, i) => task(`${domain}-${i}`, domain));
}
function outcomes(ids: readonly string[], pick: (i: number) => Outcome): Record<string, Outcome[]> {
  return Object.fromEntries(ids.map((id, i) => [id, [pick(i)]]));
}

describe('compareRuns', () => {
  it('says "no significant difference" for 3 discordant tasks out of 4', () => {
    const suite = tasksOf('mail', 4);
    const ids = suite.map((t) => t.id);
    const a = run('run_a', outcomes(ids, () => 'pass'));
    const b = run('run_b', outcomes(ids, (i) => (i === 3 ? 'pass' : 'fail')));
    const c = compareRuns({ a, b, tasks: suite, seed: 1 });
    // differences 1, 1, 1, 0: exact sign-flip p = 2/2³ = 0.25 (the same as exact McNemar)
    assert.equal(c.overall.pValue, 0.25);
    assert.equal(c.overall.exact, true);
    assert.equal(c.overall.verdict, 'no significant difference');
    assert.equal(c.overall.difference?.mean, 0.75);
    assert.deepEqual([c.overall.passRateA, c.overall.passRateB], [1, 0.25]);
    assert.deepEqual([c.overall.tasksBetterA, c.overall.tasksBetterB, c.overall.ties], [3, 0, 1]);
    assert.deepEqual(Comparison.parse(c), c);
  });

  it('names the better side when six of six discordant tasks agree', () => {
    const suite = tasksOf('mail', 6);
    const ids = suite.map((t) => t.id);
    const strong = run('run_a', outcomes(ids, () => 'pass'));
    const weak = run('run_b', outcomes(ids, () => 'fail'));
    // p = 2/2⁶ = 0.03125 < 0.05
    const ab = compareRuns({ a: strong, b: weak, tasks: suite, seed: 1 });
    assert.equal(ab.overall.pValue, 0.03125);
    assert.equal(ab.overall.verdict, 'A better');
    assert.equal(compareRuns({ a: weak, b: strong, tasks: suite, seed: 1 }).overall.verdict, 'B better');
  });

  it('applies Holm–Bonferroni across domains but not to the overall row', () => {
    const suite = [...tasksOf('mail', 6), ...tasksOf('notes', 6)];
    const ids = suite.map((t) => t.id);
    const c = compareRuns({ a: run('run_a', outcomes(ids, () => 'pass')), b: run('run_b', outcomes(ids, () => 'fail')), tasks: suite, seed: 1 });
    // each domain: p = 0.03125, Holm with 2 hypotheses: 2 × 0.03125 = 0.0625 → not significant
    for (const d of ['mail', 'notes']) {
      assert.equal(c.domains[d]?.pValue, 0.03125);
      assert.equal(c.domains[d]?.pAdjusted, 0.0625);
      assert.equal(c.domains[d]?.verdict, 'no significant difference');
    }
    // overall: 12 discordant tasks, exact p = 2/2¹² ≈ 0.000488 — sampled (12 ≤ 16 is still exact)
    assert.equal(c.overall.pValue, 2 / 4096);
    assert.equal(c.overall.verdict, 'A better');
  });

  it('pairs only tasks scored in both runs and says which were left out', () => {
    const suite = [task('t1', 'mail'), task('t2', 'mail'), task('t3', 'mail'), task('n1', 'notes')];
    const a = run('run_a', { t1: ['pass', 'fail'], t2: ['pass', 'pass'], t3: ['pass'] });
    const b = run('run_b', { t1: ['fail', 'fail'], t2: ['pass', 'infra'], t3: ['infra', 'infra'], n1: ['pass'] });
    const c = compareRuns({ a, b, tasks: suite, seed: 1 });
    assert.equal(c.overall.n, 2);
    assert.deepEqual(c.unpaired, { onlyA: ['t3'], onlyB: ['n1'] });
    // t1: 1/2 − 0 = 0.5; t2: 1 − 1 = 0 (B's infra error is not a failure)
    assert.deepEqual(
      c.tasks.map((t) => [t.id, t.difference]),
      [
        ['t1', 0.5],
        ['t2', 0],
      ],
    );
    assert.equal(c.domains.notes?.verdict, 'no paired tasks');
    assert.equal(c.domains.notes?.pValue, null);
    assert.ok(c.warnings.some((w) => w.includes('scored only in A') && w.includes('t3')));
    assert.ok(c.warnings.some((w) => w.includes('scored only in B') && w.includes('n1')));
  });

  it('rejects bad settings, saying where', () => {
    const suite = tasksOf('mail', 2);
    const a = run('run_a', outcomes(['mail-0', 'mail-1'], () => 'pass'));
    assert.throws(() => compareRuns({ a, b: a, tasks: suite, seed: 1, alpha: 0 }), /compare options[\s\S]*alpha/);
  });

  it('gives the same comparison from two stored reports', () => {
    const suite = tasksOf('mail', 20);
    const ids = suite.map((t) => t.id);
    const a = run('run_a', outcomes(ids, (i) => (i % 3 === 0 ? 'fail' : 'pass')));
    const b = run('run_b', outcomes(ids, (i) => (i % 2 === 0 ? 'fail' : 'pass')));
    const ra = buildReport({ runs: [a], tasks: suite, options: { seed: 1, resamples: 10 } }).models[0];
    const rb = buildReport({ runs: [b], tasks: suite, options: { seed: 1, resamples: 10 } }).models[0];
    assert.ok(ra && rb);
    assert.deepEqual(compareReports({ a: ra, b: rb, seed: 4, resamples: 500 }), compareRuns({ a, b, tasks: suite, seed: 4, resamples: 500 }));
  });

  it('adjusts domain intervals like the p-values: Bonferroni, so they hold jointly at 95%', () => {
    const suite = [...tasksOf('mail', 20), ...tasksOf('notes', 20)];
    const ids = suite.map((t) => t.id);
    const a = run('run_a', outcomes(ids, (i) => (i % 3 === 0 ? 'fail' : 'pass')));
    const b = run('run_b', outcomes(ids, (i) => (i % 2 === 0 ? 'fail' : 'pass')));
    const both = compareRuns({ a, b, tasks: suite, seed: 2, resamples: 2000 });
    assert.deepEqual([both.overall.confidence, both.overall.intervalAdjustment], [0.95, 'none']);
    for (const d of ['mail', 'notes']) {
      assert.ok(Math.abs((both.domains[d]?.confidence ?? 0) - 0.975) < 1e-12, 'two domains: 1 − 0.05/2');
      assert.equal(both.domains[d]?.intervalAdjustment, 'bonferroni');
    }
    // the same mail pairs compared alone are one test: unadjusted, and narrower on the same resamples
    const mailOnly = compareRuns({ a, b, tasks: suite.filter((t) => t.domain === 'mail'), seed: 2, resamples: 2000 });
    const alone = mailOnly.domains.mail;
    const adjusted = both.domains.mail;
    assert.ok(alone?.difference && adjusted?.difference);
    assert.equal(alone.intervalAdjustment, 'none');
    assert.ok(adjusted.difference.ci[0] <= alone.difference.ci[0] && adjusted.difference.ci[1] >= alone.difference.ci[1]);
    assert.ok(adjusted.difference.ci[1] - adjusted.difference.ci[0] > alone.difference.ci[1] - alone.difference.ci[0]);
    // the detectable difference of a domain row is at α/2 too, so it is larger
    assert.ok((adjusted.minDetectableEffect ?? 1) > (alone.minDetectableEffect ?? 0));
    assert.deepEqual(Comparison.parse(both), both);
  });

  it('flags a zero-width difference interval instead of claiming a certain zero', () => {
    const suite = tasksOf('mail', 8);
    const ids = suite.map((t) => t.id);
    const same = run('run_a', outcomes(ids, (i) => (i % 2 === 0 ? 'pass' : 'fail')));
    const c = compareRuns({ a: same, b: { ...same, runId: 'run_b' }, tasks: suite, seed: 1, resamples: 200 });
    assert.deepEqual(c.overall.difference, { mean: 0, ci: [0, 0], degenerate: true, exact: null });
    assert.equal(c.overall.verdict, 'no significant difference');
    // eight single-epoch tasks at 50%: even B at 0% leaves each pair discordant only half the time,
    // and the exact test needs six discordant pairs, so no difference is detected with 80% power
    assert.equal(c.overall.minDetectableEffect, null);
    assert.ok(c.warnings.includes('no significant difference overall; with n=8 pairs the exact test detects no difference at 80% power'), c.warnings.join('\n'));
  });
});
