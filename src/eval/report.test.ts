import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { groupPower } from './group.ts';
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
    assert.deepEqual(overall.byStatus, { scored: 8, infra_error: 4, cancelled: 0 });
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
    assert.deepEqual(calendar.passRate, { mean: 0, ci: [0, 0] });
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
  it('computes the detectable difference from the spread of per-task pass rates', () => {
    const options = { seed: 1, resamples: 10, confidence: 0.95, power: 0.8, alpha: 0.05, minEffect: 0.1 };
    // 20 tasks alternating 0 and 1: sample variance 20 × 0.25 / 19 = 5/19, above the binomial floor 0.25
    // per-task difference sd √(2 × 5/19) = 0.725476 → MDE 0.530385 and 419 tasks for 0.1 (see stats.test.ts)
    const rates = Float64Array.from({ length: 20 }, (_, i) => i % 2);
    const power = groupPower(rates, { passes: 10, attempts: 20 }, options);
    assert.ok(power);
    assert.ok(Math.abs(power.sd - Math.sqrt(5 / 19)) < 1e-12);
    assert.ok(Math.abs(power.minDetectableEffect - 0.530385) < 1e-5, String(power.minDetectableEffect));
    assert.equal(power.requiredN, 419);
    // 20 tasks all at 1/2 over 2 epochs: sample variance 0, so the floor p(1−p)/epochs applies with
    // p = (20 + ½)/(40 + 1) = ½: 0.25/2 = 0.125; s = √0.25 = 0.5 → MDE 0.5 × 11.813/16.159 = 0.365543
    const floored = groupPower(new Float64Array(20).fill(0.5), { passes: 20, attempts: 40 }, options);
    assert.ok(floored && Math.abs(floored.minDetectableEffect - 0.365543) < 1e-5, String(floored?.minDetectableEffect));
  });

  it('warns per domain when n cannot detect the requested minimum effect', () => {
    const model = handReport(0.05).models[0];
    const mail = model?.domains.mail;
    assert.ok(mail?.minDetectableEffect && mail.requiredN);
    const line = `domain mail: n=2 can only detect differences ≥ ${mail.minDetectableEffect.toFixed(2)} at 80% power (α=0.05); --min-effect 0.05 needs n ≥ ${mail.requiredN}`;
    assert.ok(model?.warnings.includes(line), model?.warnings.join('\n'));
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
