import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { clopperPearson } from './exact.ts';
import { exactTestPower, groupPower, minDetectableDifference } from './power.ts';
import { buildReport } from './report.ts';
import { EvalReport } from './schema.ts';
import { rolloutOf, rolloutsFor, run, task } from './test-fixtures.ts';

const close = (actual: number | undefined | null, expected: number, what = '') =>
  assert.ok(actual !== undefined && actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: expected ${expected}, got ${actual}`);

const tasks = [task('mail-1', 'mail', 'easy'), task('mail-2', 'mail'), task('mail-3', 'mail'), task('cal-1', 'calendar', 'hard'), task('cal-2', 'calendar', 'hard'), task('cal-3', 'calendar')];

// mail-1: pass, fail (score 0.5), pass            → 2 of 3, mean score 2.5/3
// mail-2: infra error, pass, pass                  → 2 of 2 (the infra error is not a failure)
// mail-3: no rollouts                              → missing
// cal-1:  epoch 0 infra error retried then fail, fail (max_turns), fail (score 0.25) → 0 of 3, mean score 0.25/3
// cal-2:  infra error × 3                          → not in n
// cal-3:  excluded (golden failed), its rollouts ignored
function handRun() {
  return {
    runId: 'run_a',
    model: 'ckpt-812',
    rollouts: [
      ...rolloutsFor('run_a', 'mail-1', ['pass', { score: 0.5, passed: false }, 'pass']),
      ...rolloutsFor('run_a', 'mail-2', ['infra', 'pass', 'pass']),
      rolloutOf('run_a', 'cal-1', 0, 'infra', 1),
      rolloutOf('run_a', 'cal-1', 0, { score: 0, passed: false }, 2),
      rolloutOf('run_a', 'cal-1', 1, { score: 0, passed: false, terminationReason: 'max_turns' }),
      rolloutOf('run_a', 'cal-1', 2, { score: 0.25, passed: false }),
      ...rolloutsFor('run_a', 'cal-2', ['infra', 'infra', 'infra']),
      ...rolloutsFor('run_a', 'cal-3', ['pass', 'pass']),
    ],
  };
}

const excludedTasks = [{ id: 'cal-3', reason: 'golden solution failed check event_created' }];

function handReport(minEffect?: number) {
  return buildReport({ runs: [handRun()], tasks, excludedTasks, options: { seed: 7, resamples: 2000, ...(minEffect ? { minEffect } : {}) } });
}

describe('buildReport on a hand-worked run', () => {
  const report = handReport();
  const model = report.models[0];
  assert.ok(model);
  const { overall } = model;

  it('counts n as tasks with a scored rollout and averages per-task pass rates', () => {
    assert.equal(overall.tasks, 5);
    assert.equal(overall.n, 3);
    assert.equal(overall.epochs, 3);
    // (2/3 + 2/2 + 0/3) / 3 = 5/9
    close(overall.passRate?.mean, 5 / 9, 'pass rate');
    // (2.5/3 + 1 + 0.25/3) / 3 = (30 + 36 + 3)/36/3 = 23/36
    close(overall.meanScore?.mean, 23 / 36, 'mean score');
    const ci = overall.passRate?.ci ?? [NaN, NaN];
    assert.ok(ci[0] >= 0 && ci[0] <= 5 / 9 && ci[1] >= 5 / 9 && ci[1] <= 1, `ci ${ci}`);
  });

  it('gives unbiased pass@k and pass^k for k up to the fewest scored attempts', () => {
    assert.deepEqual(Object.keys(overall.passAtK), ['1', '2']);
    close(overall.passAtK['1'], 5 / 9, 'pass@1');
    // pass@2: mail-1 1 − C(1,2)/C(3,2) = 1; mail-2 1; cal-1 1 − C(3,2)/C(3,2) = 0 → 2/3
    close(overall.passAtK['2'], 2 / 3, 'pass@2');
    // pass^2: mail-1 C(2,2)/C(3,2) = 1/3; mail-2 1; cal-1 0 → (4/3)/3 = 4/9
    close(overall.passHatK['2'], 4 / 9, 'pass^2');
  });

  it('keeps infra errors apart: counted and shown, never failures', () => {
    assert.deepEqual(overall.infraErrors, { count: 4, rate: 4 / 12, retried: 1, tasksWithOnlyInfraErrors: ['cal-2'] });
    assert.deepEqual(overall.byStatus, { scored: 8, infra_error: 4, error: 0, cancelled: 0 });
    assert.equal(overall.byTerminationReason.infra_error, 4);
    assert.equal(overall.byTerminationReason.max_turns, 1);
    assert.equal(overall.byTerminationReason.submitted, 7);
    assert.equal(overall.rollouts, 12);
    // mail-2's pass rate is 2/2, not 2/3
    assert.equal(model.tasks.find((t) => t.id === 'mail-2')?.passRate, 1);
    assert.ok(model.warnings.some((w) => w.includes('4 of 12 rollouts (33.3%) ended in infra errors')));
    assert.ok(model.warnings.some((w) => w.includes('1 task has only infra errors and is not in n: cal-2')));
  });

  it('gives the same rates with infra-error rollouts as without them', () => {
    const withoutInfra = { ...handRun(), rollouts: handRun().rollouts.filter((r) => r.status !== 'infra_error') };
    const other = buildReport({ runs: [withoutInfra], tasks, excludedTasks, options: { seed: 7, resamples: 2000 } }).models[0];
    assert.deepEqual(other?.overall.passRate, overall.passRate);
    assert.deepEqual(other?.domains.mail?.passHatK, model.domains.mail?.passHatK);
  });

  it('lists flaky, missing and excluded tasks', () => {
    assert.deepEqual(overall.flakyTasks, ['mail-1']);
    assert.deepEqual(overall.missingTasks, ['mail-3']);
    assert.deepEqual(overall.excludedTasks, excludedTasks);
    assert.deepEqual(report.excludedTasks, excludedTasks);
    assert.equal(model.tasks.some((t) => t.id === 'cal-3'), false);
    assert.ok(report.warnings[0]?.includes('cal-3 (golden solution failed check event_created)'));
  });

  it('breaks the same figures down by domain', () => {
    assert.deepEqual(Object.keys(model.domains), ['calendar', 'mail']);
    const mail = model.domains.mail;
    const calendar = model.domains.calendar;
    assert.ok(mail && calendar);
    assert.equal(mail.n, 2);
    close(mail.passRate?.mean, 5 / 6, 'mail pass rate'); // (2/3 + 1)/2
    close(mail.passHatK['2'], 2 / 3, 'mail pass^2'); // (1/3 + 1)/2
    assert.deepEqual(mail.infraErrors, { count: 1, rate: 1 / 6, retried: 0, tasksWithOnlyInfraErrors: [] });
    assert.equal(calendar.n, 1);
    // one task: the bootstrap interval has zero width, so the exact interval over 1 task comes with it
    assert.deepEqual(calendar.passRate, { mean: 0, ci: [0, 0], degenerate: true, exact: { method: 'clopper-pearson', successes: 0, trials: 1, ci: clopperPearson(0, 1, 0.95) } });
    assert.ok(Math.abs((calendar.passRate?.exact?.ci[1] ?? 0) - 0.975) < 1e-12);
    assert.deepEqual(calendar.excludedTasks, excludedTasks);
    assert.deepEqual(mail.excludedTasks, []);
    assert.equal(calendar.infraErrors.retried, 1);
  });

  it('records each task’s epochs in order', () => {
    assert.deepEqual(model.tasks.find((t) => t.id === 'cal-1'), {
      id: 'cal-1',
      domain: 'calendar',
      difficulty: 'hard',
      epochs: 3,
      scored: 3,
      passes: 0,
      passRate: 0,
      meanScore: 0.25 / 3,
      infraErrors: 0,
      errors: 0,
      cancelled: 0,
      retriedInfraErrors: 1,
      outcomes: ['fail', 'fail', 'fail'],
    });
  });

  it('matches its documented schema and is deterministic, whatever the rollout order', () => {
    assert.deepEqual(EvalReport.parse(report), report);
    const shuffled = { ...handRun(), rollouts: [...handRun().rollouts].reverse() };
    const again = buildReport({ runs: [shuffled], tasks, excludedTasks, options: { seed: 7, resamples: 2000 } });
    assert.equal(JSON.stringify(again), JSON.stringify(report));
  });
});

describe('power and warnings', () => {
  it('computes the detectable difference with the exact-test power model of the group’s counts', () => {
    const options = { alpha: 0.05, power: 0.8, minEffect: 0.1 };
    // 20 tasks alternating pass and fail over one epoch: mean ½, and the test is exact McNemar
    const alternating = Array.from({ length: 20 }, (_, i) => ({ passes: i % 2, scored: 1 }));
    const power = groupPower(alternating, options);
    assert.ok(power?.minDetectableEffect && power.requiredN);
    assert.ok(Math.abs((power.sd ?? 0) - Math.sqrt(5 / 19)) < 1e-12, 'sd of rates: √(20 × ¼ / 19)');
    const model = { mean: 0.5, rho: 0, epochs: 1 };
    assert.equal(power.minDetectableEffect, minDetectableDifference({ tasks: 20, model, alpha: 0.05, power: 0.8 }));
    // the claim sits where the modelled power crosses 80%
    assert.ok((exactTestPower(power.minDetectableEffect, { tasks: 20, model, alpha: 0.05 }) ?? 0) >= 0.8);
    assert.ok((exactTestPower(power.minDetectableEffect - 0.005, { tasks: 20, model, alpha: 0.05 }) ?? 1) < 0.8);
    // requiredN is the fewest tasks that reach 80% for 0.1
    assert.ok((exactTestPower(0.1, { tasks: power.requiredN, model, alpha: 0.05 }) ?? 0) >= 0.8);
    assert.ok((exactTestPower(0.1, { tasks: power.requiredN - 1, model, alpha: 0.05 }) ?? 1) < 0.8);
  });

  it('says when n is too small for the exact test to detect anything, and what --min-effect needs', () => {
    const model = handReport(0.05).models[0];
    const mail = model?.domains.mail;
    // two tasks: at most 2 non-zero differences, and the exact test needs 6
    assert.equal(mail?.minDetectableEffect, null);
    assert.ok(mail?.requiredN);
    const line = `domain mail: n=2 is too few for the exact test to detect any difference at 80% power (α=0.05): it needs at least 6 tasks whose results differ; --min-effect 0.05 needs n ≥ ${mail.requiredN}`;
    assert.ok(model?.warnings.includes(line), model?.warnings.join('\n'));
  });

  it('warns when n cannot detect the requested minimum effect', () => {
    const suite = Array.from({ length: 40 }, (_, i) => task(`t${i}`, 'mail'));
    const a = run('run_a', Object.fromEntries(suite.map((t, i) => [t.id, [i % 2 === 0 ? 'pass' : 'fail'] as const])));
    const model = buildReport({ runs: [a], tasks: suite, options: { seed: 1, resamples: 50, minEffect: 0.05 } }).models[0];
    const mde = model?.overall.minDetectableEffect;
    assert.ok(mde && mde > 0.05 && model.overall.requiredN);
    const line = `overall: n=40 can only detect differences ≥ ${mde.toFixed(2)} at 80% power (α=0.05); --min-effect 0.05 needs n ≥ ${model.overall.requiredN}`;
    assert.ok(model.warnings.includes(line), model.warnings.join('\n'));
  });

  it('rejects bad options and duplicate tasks with errors that say where', () => {
    assert.throws(
      () => buildReport({ runs: [], tasks, options: { seed: 1, confidence: 1.5 } }),
      (e: unknown) => e instanceof InputError && e.message.includes('eval options') && e.message.includes('confidence'),
    );
    assert.throws(() => buildReport({ runs: [], tasks: [...tasks, task('mail-1', 'mail')], options: { seed: 1 } }), /eval tasks: task id "mail-1" appears twice/);
  });
});

describe('discrimination and metadata', () => {
  it('finds tasks every model passes, none passes, and estimates difficulty', () => {
    const suite = [task('t1', 'mail', 'easy'), task('t2', 'mail', 'hard'), task('t3', 'notes'), task('t4', 'notes')];
    const a = run('run_a', { t1: ['pass', 'pass'], t2: ['fail', 'fail'], t3: ['pass', 'pass'], t4: ['pass', 'fail'] });
    const b = run('run_b', { t1: ['pass', 'pass'], t2: ['fail', 'fail'], t3: ['fail', 'fail'], t4: ['infra', 'infra'] });
    const report = buildReport({ runs: [a, b], tasks: suite, options: { seed: 1, resamples: 100 } });
    const d = report.discrimination;
    assert.deepEqual(d.allModelsPass, ['t1']);
    assert.deepEqual(d.noModelPasses, ['t2']);
    assert.deepEqual(
      d.tasks.map((t) => [t.id, t.models, t.n, t.difficultyEstimate]),
      [
        ['t1', 2, 4, 0],
        ['t2', 2, 4, 1],
        ['t3', 2, 4, 0.5],
        ['t4', 1, 2, 0.5],
      ],
    );
    assert.deepEqual(d.byTaggedDifficulty, { easy: { tasks: 1, meanDifficultyEstimate: 0 }, hard: { tasks: 1, meanDifficultyEstimate: 1 }, medium: { tasks: 2, meanDifficultyEstimate: 0.5 } });
  });

  it('passes the caller’s reproducibility metadata through', () => {
    const report = buildReport({
      runs: [run('run_a', { t1: ['pass'] })],
      tasks: [task('t1', 'mail')],
      options: { seed: 9, resamples: 10 },
      meta: { createdAt: '2026-02-01T00:00:00Z', config: { suite: 'workplace', epochs: 5 }, seeds: { run_a: 42 }, sampling: { run_a: { temperature: 1 } } },
    });
    assert.deepEqual(report.meta, {
      gauntletVersion: '0.1.0',
      config: { suite: 'workplace', epochs: 5 },
      seeds: { eval: 9, run_a: 42 },
      models: [{ runId: 'run_a', model: 'model-run_a' }],
      sampling: { run_a: { temperature: 1 } },
      createdAt: '2026-02-01T00:00:00Z',
    });
    assert.deepEqual(report.options, { seed: 9, resamples: 10, confidence: 0.95, minEffect: null, power: 0.8, alpha: 0.05 });
  });
});

describe('rollouts ended by a defect', () => {
  it('are never scored or called failures, and are listed loudly', () => {
    const suite = [task('t1', 'mail'), task('t2', 'mail')];
    const a = run('run_a', { t1: ['pass', 'error', 'pass'], t2: ['fail', 'fail'] });
    const model = buildReport({ runs: [a], tasks: suite, options: { seed: 1, resamples: 50 } }).models[0];
    const t1 = model?.tasks.find((t) => t.id === 't1');
    assert.deepEqual([t1?.outcomes, t1?.scored, t1?.passes, t1?.errors, t1?.cancelled], [['pass', 'error', 'pass'], 2, 2, 1, 0]);
    assert.equal(model?.overall.byStatus.error, 1);
    assert.equal(model?.overall.byTerminationReason.error, 1);
    close(model?.overall.pooledPassRate, 2 / 4, 'pooled over the four scored rollouts');
    assert.ok(model?.warnings.some((w) => w.startsWith("1 rollout ended in an error (a defect in Gauntlet's or the environment's code") && w.endsWith(': t1')));
  });
});

describe('pass rates that need care', () => {
  it('pairs a zero-width interval with the exact interval over tasks when every task passes', () => {
    const suite = Array.from({ length: 39 }, (_, i) => task(`t${i}`, 'mail'));
    const allPass = run('run_a', Object.fromEntries(suite.map((t) => [t.id, ['pass', 'pass', 'pass'] as const])));
    const model = buildReport({ runs: [allPass], tasks: suite, options: { seed: 1, resamples: 200 } }).models[0];
    const rate = model?.overall.passRate;
    assert.ok(rate);
    assert.deepEqual(rate.ci, [1, 1]);
    assert.equal(rate.degenerate, true);
    // 39 of 39 tasks: [0.025^(1/39), 1] = [0.9098, 1]
    assert.deepEqual(rate.exact, { method: 'clopper-pearson', successes: 39, trials: 39, ci: clopperPearson(39, 39, 0.95) });
    assert.ok(Math.abs((rate.exact?.ci[0] ?? 0) - 0.025 ** (1 / 39)) < 1e-12);
    assert.ok(model.warnings.some((w) => w.startsWith('overall, domain mail: every task had the same pass rate (or n = 1), so the bootstrap interval has zero width')));
  });

  it('keeps exact intervals off intervals that have width', () => {
    const rate = handReport().models[0]?.domains.mail?.passRate;
    assert.equal(rate?.degenerate, false);
    assert.equal(rate?.exact, null);
  });

  it('states the per-task mean and the pooled pass rate, which differ when tasks have different scored epochs', () => {
    // t1: 3 of 3; t2: 0 of 1 (two infra errors) → per-task mean (1 + 0)/2 = 0.5, pooled 3/4
    const suite = [task('t1', 'mail'), task('t2', 'mail')];
    const a = run('run_a', { t1: ['pass', 'pass', 'pass'], t2: ['fail', 'infra', 'infra'] });
    const overall = buildReport({ runs: [a], tasks: suite, options: { seed: 1, resamples: 50 } }).models[0]?.overall;
    assert.equal(overall?.taskMeanPassRate, 0.5);
    assert.equal(overall?.passRate?.mean, 0.5);
    assert.equal(overall?.pooledPassRate, 0.75);
    // the hand-worked run: pooled (2 + 2 + 0)/(3 + 2 + 3) = 0.5 against the per-task 5/9
    const hand = handReport().models[0]?.overall;
    close(hand?.pooledPassRate, 0.5, 'pooled');
    close(hand?.taskMeanPassRate, 5 / 9, 'per-task mean');
  });
});
