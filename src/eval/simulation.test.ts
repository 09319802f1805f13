// Simulated models: each task has a true success probability and every epoch is a seeded Bernoulli
// draw, written as real Rollout records. Sizes are picked for the precision each claim needs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../core/index.ts';
import type { Rng } from '../core/index.ts';
import { compareRuns } from './compare.ts';
import { buildReport } from './report.ts';
import { simulateRun, simulateTasks } from './simulate.ts';
import { exactTestPower, fitTaskModel } from './power.ts';
import type { ModelReport } from './schema.ts';
import type { TaskMeta } from './tasks.ts';

const uniform = (rng: Rng, low: number, high: number) => low + (high - low) * rng.next();

interface Trial {
  tasks: TaskMeta[];
  pA: number[];
  pB: number[];
}

function simulatePair(trial: Trial, epochs: number, seed: string) {
  const a = simulateRun({ runId: 'run_a', model: 'A', tasks: trial.tasks, epochs, seed: `${seed}:a`, probability: (_t, i) => trial.pA[i] as number });
  const b = simulateRun({ runId: 'run_b', model: 'B', tasks: trial.tasks, epochs, seed: `${seed}:b`, probability: (_t, i) => trial.pB[i] as number });
  return { a, b };
}

describe('simulated models', () => {
  it('two models with the same success probabilities are called different at most 5% of the time (1,000 comparisons)', () => {
    const rng = createRng('fpr');
    const tasks = simulateTasks({ count: 50, domains: ['sim'] });
    let falsePositives = 0;
    const trials = 1000;
    for (let t = 0; t < trials; t++) {
      // tasks differ in difficulty; both models share each task's probability
      const p = tasks.map(() => uniform(rng, 0.1, 0.9));
      const { a, b } = simulatePair({ tasks, pA: p, pB: p }, 3, `fpr:${t}`);
      const verdict = compareRuns({ a, b, tasks, seed: t, resamples: 400 }).overall.verdict;
      if (verdict !== 'no significant difference') falsePositives++;
    }
    assert.ok(falsePositives / trials <= 0.05, `false-positive rate ${falsePositives / trials}`);
  });

  it('95% bootstrap intervals cover the true pass rate about 95% of the time (400 trials)', () => {
    const rng = createRng('coverage');
    const tasks = simulateTasks({ count: 100, domains: ['sim'] });
    let covered = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      // a fresh sample of tasks from a population whose mean success probability is 0.5
      const p = tasks.map(() => uniform(rng, 0.1, 0.9));
      const run = simulateRun({ runId: 'run_a', model: 'A', tasks, epochs: 3, seed: `coverage:${t}`, probability: (_t, i) => p[i] as number });
      const ci = buildReport({ runs: [run], tasks, options: { seed: t, resamples: 1000 } }).models[0]?.overall.passRate?.ci;
      assert.ok(ci);
      if (ci[0] <= 0.5 && 0.5 <= ci[1]) covered++;
    }
    const coverage = covered / trials;
    assert.ok(coverage >= 0.92 && coverage <= 0.98, `coverage ${coverage}`);
  });

  describe('a 15-point difference over 100 tasks × 3 epochs', () => {
    // The power the report's minDetectableEffect stands for, evaluated at 15 points: the task
    // model fitted to the model's per-task counts and the exact-test power of power.ts.
    const claimedPower = (model: ModelReport) => {
      const fitted = fitTaskModel(model.tasks);
      assert.ok(fitted);
      const design = { tasks: model.overall.n, model: fitted, alpha: 0.05 };
      // the stated minDetectableEffect is the difference detected at 80% under that model
      const atClaim = exactTestPower(model.overall.minDetectableEffect ?? Number.NaN, design) ?? Number.NaN;
      assert.ok(atClaim >= 0.8 - 1e-9 && atClaim < 0.801, `power at the claim: ${atClaim}`);
      return exactTestPower(0.15, design) ?? Number.NaN;
    };

    function powerStudy(label: string, draw: (rng: Rng) => { pA: number; pB: number }, trials: number) {
      const rng = createRng(label);
      const tasks = simulateTasks({ count: 100, domains: ['sim'] });
      let detected = 0;
      let claimed = 0;
      for (let t = 0; t < trials; t++) {
        const probabilities = tasks.map(() => draw(rng));
        const trial = { tasks, pA: probabilities.map((p) => p.pA), pB: probabilities.map((p) => p.pB) };
        const { a, b } = simulatePair(trial, 3, `${label}:${t}`);
        if (compareRuns({ a, b, tasks, seed: t, resamples: 400 }).overall.verdict === 'B better') detected++;
        const report = buildReport({ runs: [a, b], tasks, options: { seed: t, resamples: 20 } });
        claimed += report.models.reduce((sum, m) => sum + claimedPower(m), 0) / report.models.length;
      }
      return { empirical: detected / trials, claimed: claimed / trials };
    }

    it('is detected at the power the report claims when the models’ task difficulties are unrelated', () => {
      // A: p ~ U(0.05, 0.85), mean 0.45; B: p ~ U(0.20, 1.00), mean 0.60, drawn independently
      const { empirical, claimed } = powerStudy('power-independent', (rng) => ({ pA: uniform(rng, 0.05, 0.85), pB: uniform(rng, 0.2, 1) }), 300);
      assert.ok(Math.abs(empirical - claimed) <= 0.06, `empirical ${empirical}, claimed ${claimed}`);
    });

    it('is detected at least as often as claimed when the models share task difficulty', () => {
      // B is 15 points better on every task: pairing removes the between-task spread
      const { empirical, claimed } = powerStudy(
        'power-shared',
        (rng) => {
          const p = uniform(rng, 0.1, 0.75);
          return { pA: p, pB: p + 0.15 };
        },
        200,
      );
      assert.ok(empirical >= claimed, `empirical ${empirical}, claimed ${claimed}`);
    });
  });
});
