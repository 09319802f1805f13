// The detectable difference a report claims is checked against the test it stands for: seeded
// simulations of the paired comparison at the claimed difference, decided by the same exact
// sign-flip test and verdict rule `compare` uses, must detect it about as often as claimed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../core/index.ts';
import type { Rng } from '../core/index.ts';
import { signFlipTest } from './bootstrap.ts';
import { clopperPearson, logGamma, regularizedBeta } from './exact.ts';
import { differenceLaw, exactTestPower, fitTaskModel, groupPower, minDecisivePairs, minDetectableDifference, passCountPmf, requiredTasks } from './power.ts';
import type { TaskModel } from './power.ts';
import { buildReport } from './report.ts';
import { normalQuantile } from './stats.ts';
import { run, task } from './test-fixtures.ts';

const close = (actual: number | null | undefined, expected: number, tolerance: number, what = '') =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tolerance, `${what} expected ${expected} ± ${tolerance}, got ${actual}`);

function binomialDraw(rng: Rng, k: number, p: number): number {
  let x = 0;
  for (let e = 0; e < k; e++) if (rng.next() < p) x++;
  return x;
}

interface Scenario {
  tasks: number;
  epochs: number;
  /** Draws task i's pass probability for side A and side B. */
  probabilities: (rng: Rng) => { a: number; b: number };
}

/** Share of seeded simulated comparisons in which the test calls A better (A is the better side in every scenario here). */
function detectionRate(scenario: Scenario, trials: number, seed: string): number {
  const rng = createRng(seed);
  const differences = new Float64Array(scenario.tasks);
  let detected = 0;
  for (let t = 0; t < trials; t++) {
    let sum = 0;
    for (let i = 0; i < scenario.tasks; i++) {
      const p = scenario.probabilities(rng);
      differences[i] = (binomialDraw(rng, scenario.epochs, p.a) - binomialDraw(rng, scenario.epochs, p.b)) / scenario.epochs;
      sum += differences[i] as number;
    }
    // compare's verdict for the overall row: p below α, in the direction of the mean difference
    if (sum > 0 && signFlipTest(differences, { seed: t, resamples: 1000 }).pValue < 0.05) detected++;
  }
  return detected / trials;
}

/**
 * What version 1 claimed: the normal approximation δ = s(√n·z_β + z_α·√(n + z_β² − z_α²))/(n − z_α²),
 * with the per-task difference sd s = √(2·p(1−p)/k) floored at the binomial noise, p = (passes + ½)/(attempts + 1).
 */
function versionOneClaim(n: number, epochs: number): number {
  const za = normalQuantile(0.975);
  const zb = normalQuantile(0.8);
  const p = (n * epochs + 0.5) / (n * epochs + 1);
  const s = Math.sqrt((2 * p * (1 - p)) / epochs);
  return (s * (Math.sqrt(n) * zb + za * Math.sqrt(n + zb * zb - za * za))) / (n - za * za);
}

describe('an all-pass group of 39 tasks × 3 epochs', () => {
  const suite = Array.from({ length: 39 }, (_, i) => task(`t${i}`, 'sim'));
  const allPass = run('run_a', Object.fromEntries(suite.map((t) => [t.id, ['pass', 'pass', 'pass'] as const])));
  const overall = buildReport({ runs: [allPass], tasks: suite, options: { seed: 1, resamples: 200 } }).models[0]?.overall;
  const claimed = overall?.minDetectableEffect ?? Number.NaN;
  // B passes each attempt with probability 1 − Δ on every task, the alternative the model assumes for ρ = 0
  const against = (delta: number): Scenario => ({ tasks: 39, epochs: 3, probabilities: () => ({ a: 1, b: 1 - delta }) });

  it('claims a difference the exact test detects at least 80% of the time (2,000 seeded comparisons)', () => {
    close(claimed, 0.0712, 0.001, 'claimed detectable Δ');
    const empirical = detectionRate(against(claimed), 2000, 'all-pass:new');
    // one-sided: the claim must hold; 0.78 allows three standard errors of 2,000 trials
    assert.ok(empirical >= 0.78, `empirical power at the claimed ${claimed.toFixed(4)}: ${empirical}`);
    assert.ok(empirical <= 0.9, `the claim should not be needlessly timid either: ${empirical}`);
  });

  it('shows the version-1 claim of 0.026 had about 7% power, not 80%', () => {
    const old = versionOneClaim(39, 3);
    close(old, 0.0256, 0.0005, 'version-1 claim');
    const empirical = detectionRate(against(old), 2000, 'all-pass:old');
    assert.ok(empirical < 0.15, `empirical power at the version-1 claim: ${empirical}`);
    close(exactTestPower(old, { tasks: 39, model: { mean: 1, rho: 0, epochs: 3 }, alpha: 0.05 }), empirical, 0.03, 'modelled power at 0.026');
  });
});

describe('the claimed detectable difference, checked by simulation of the real test', () => {
  // Each claim is computed from the population the tasks are drawn from; B (or A) is then shifted
  // by the claim. 600 trials: a standard error of 0.016 around 0.8.
  const cases: Array<{ name: string; model: TaskModel; tasks: number; draw: (delta: number) => Scenario['probabilities'] }> = [
    // one epoch: the test is exact McNemar on discordant tasks
    { name: '20 tasks × 1 epoch at 50%', tasks: 20, model: { mean: 0.5, rho: 0, epochs: 1 }, draw: (d) => () => ({ a: 0.5, b: 0.5 - d }) },
    { name: 'all-fail 10 tasks × 5 epochs', tasks: 10, model: { mean: 0, rho: 0, epochs: 5 }, draw: (d) => () => ({ a: d, b: 0 }) },
    // all-or-nothing tasks (ρ = 1): each task always passes or always fails, independently per model
    {
      name: '30 all-or-nothing tasks × 3 epochs',
      tasks: 30,
      model: { mean: 0.5, rho: 1, epochs: 3 },
      draw: (d) => (rng) => ({ a: rng.next() < 0.5 + d ? 1 : 0, b: rng.next() < 0.5 ? 1 : 0 }),
    },
    // difficulty spread uniformly over tasks: U(0.1, 0.8) has mean 0.45 and ρ = (0.7²/12)/(0.45·0.55) ≈ 0.165
    {
      name: '100 tasks × 3 epochs, uniform difficulty',
      tasks: 100,
      model: { mean: 0.45, rho: 0.7 ** 2 / 12 / (0.45 * 0.55), epochs: 3 },
      draw: (d) => (rng) => ({ a: 0.1 + d + 0.7 * rng.next(), b: 0.1 + 0.7 * rng.next() }),
    },
  ];
  for (const c of cases) {
    it(`holds for ${c.name}`, () => {
      const claimed = minDetectableDifference({ tasks: c.tasks, model: c.model, alpha: 0.05, power: 0.8 });
      assert.ok(claimed !== null);
      const empirical = detectionRate({ tasks: c.tasks, epochs: c.model.epochs, probabilities: c.draw(claimed) }, 600, c.name);
      assert.ok(empirical >= 0.75 && empirical <= 0.95, `claimed ${claimed.toFixed(4)}: empirical power ${empirical}`);
    });
  }
});

describe('exact-test power model', () => {
  it('needs 6 non-zero differences at α = 0.05 (2·0.5⁵ = 0.0625 is not below α)', () => {
    assert.equal(minDecisivePairs(0.05), 6);
    assert.equal(minDecisivePairs(0.0625), 6);
    assert.equal(minDecisivePairs(0.1), 5);
    assert.equal(minDetectableDifference({ tasks: 5, model: { mean: 0.5, rho: 0, epochs: 10 }, alpha: 0.05, power: 0.8 }), null);
    // 6 tasks can only work if all 6 differ in the same direction: a full swing from 0% to 100%
    const six = minDetectableDifference({ tasks: 6, model: { mean: 0, rho: 0, epochs: 1 }, alpha: 0.05, power: 0.8 });
    // 0.8^(1/6) = 0.9635: B must pass with that probability for all six tasks to differ with 80% chance
    close(six, 0.8 ** (1 / 6), 1e-6, 'six tasks');
  });

  it('gives the binomial and beta-binomial laws of one task’s passes', () => {
    const binomial = passCountPmf({ mean: 0.9, rho: 0, epochs: 3 });
    close(binomial[3], 0.729, 1e-12, 'P(3 of 3)');
    close(binomial[0], 0.001, 1e-12, 'P(0 of 3)');
    const spread = passCountPmf({ mean: 0.3, rho: 0.25, epochs: 4 });
    let mean = 0;
    let square = 0;
    spread.forEach((p, j) => {
      mean += (p * j) / 4;
      square += (p * j * j) / 16;
    });
    close(mean, 0.3, 1e-12, 'mean rate');
    // Var(X/k) = p(1−p)(1 + (k−1)ρ)/k = 0.21 × 1.75 / 4
    close(square - mean * mean, (0.21 * 1.75) / 4, 1e-12, 'variance of the rate');
    assert.deepEqual([...passCountPmf({ mean: 0.4, rho: 1, epochs: 3 })], [0.6, 0, 0, 0.4]);
  });

  it('counts ties between the two sides exactly', () => {
    // A always passes; B passes all 3 with 0.9³ = 0.729
    const law = differenceLaw({ mean: 1, rho: 0, epochs: 3 }, { mean: 0.9, rho: 0, epochs: 3 });
    close(law.tie, 0.729, 1e-12, 'tie');
    close(law.moments[0], 0.1, 1e-12, 'mean difference');
    // 1 epoch against 2: ties only where 2·x = y, i.e. (0, 0) and (1, 2): 0.5·0.25 + 0.5·0.25
    close(differenceLaw({ mean: 0.5, rho: 0, epochs: 1 }, { mean: 0.5, rho: 0, epochs: 2 }).tie, 0.25, 1e-12, 'mixed epochs');
  });

  it('fits the task model by moments', () => {
    assert.deepEqual(
      fitTaskModel(Array.from({ length: 39 }, () => ({ passes: 3, scored: 3 }))),
      { mean: 1, rho: 0, epochs: 3 },
    );
    // half the tasks always pass, half never: all-or-nothing, ρ = 1
    assert.deepEqual(
      fitTaskModel(Array.from({ length: 10 }, (_, i) => ({ passes: i % 2 === 0 ? 4 : 0, scored: 4 }))),
      { mean: 0.5, rho: 1, epochs: 4 },
    );
    assert.equal(fitTaskModel([{ passes: 0, scored: 0 }]), null);
  });

  it('is non-decreasing in n and finds the fewest tasks an effect needs', () => {
    const model = { mean: 0.6, rho: 0.2, epochs: 3 };
    const n = requiredTasks(0.1, { model, alpha: 0.05, power: 0.8 });
    assert.ok(n !== null);
    assert.ok((exactTestPower(0.1, { tasks: n, model, alpha: 0.05 }) ?? 0) >= 0.8);
    assert.ok((exactTestPower(0.1, { tasks: n - 1, model, alpha: 0.05 }) ?? 1) < 0.8);
    // an effect the pass rate cannot move by in either direction
    assert.equal(requiredTasks(0.7, { model, alpha: 0.05, power: 0.8 }), null);
  });

  it('reports the figures of a group from its per-task counts', () => {
    const counts = Array.from({ length: 39 }, () => ({ passes: 3, scored: 3 }));
    const figures = groupPower(counts, { alpha: 0.05, power: 0.8, minEffect: 0.05 });
    assert.equal(figures?.sd, 0);
    close(figures?.minDetectableEffect, minDetectableDifference({ tasks: 39, model: { mean: 1, rho: 0, epochs: 3 }, alpha: 0.05, power: 0.8 }) ?? Number.NaN, 0);
    // 5 points below an all-pass model: 1 − 0.95³ = 14.3% of tasks differ; six of them must
    assert.ok((figures?.requiredN ?? 0) > 39);
  });
});

describe('exact binomial helpers', () => {
  it('match tabulated values', () => {
    close(logGamma(10), Math.log(362880), 1e-12, 'ln 9!');
    close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13, 'ln Γ(½)');
    // I_0.5(2, 3) = P(Bin(4, ½) ≥ 2) = 11/16
    close(regularizedBeta(0.5, 2, 3), 11 / 16, 1e-14, 'I_0.5(2,3)');
  });

  it('gives Clopper–Pearson intervals, with closed forms at the ends', () => {
    const [lo0, hi0] = clopperPearson(0, 10, 0.95);
    assert.equal(lo0, 0);
    close(hi0, 1 - 0.025 ** (1 / 10), 1e-12, 'upper at 0/10');
    const [lo39, hi39] = clopperPearson(39, 39, 0.95);
    close(lo39, 0.025 ** (1 / 39), 1e-12, 'lower at 39/39');
    assert.equal(hi39, 1);
    // 5 of 10: [0.187086, 0.812914] (tabulated)
    const [lo5, hi5] = clopperPearson(5, 10, 0.95);
    close(lo5, 0.187086, 1e-6, 'lower at 5/10');
    close(hi5, 0.812914, 1e-6, 'upper at 5/10');
    // a fractional count lies between its neighbours
    const half = clopperPearson(2.5, 5, 0.95);
    assert.ok(half[0] > clopperPearson(2, 5, 0.95)[0] && half[0] < clopperPearson(3, 5, 0.95)[0]);
  });
});
