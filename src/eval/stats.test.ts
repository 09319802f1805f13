import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapMeans, fillIndices, signFlipTest, streamState } from './bootstrap.ts';
import { createRng } from '../core/index.ts';
import { holmAdjust, normalCdf, normalQuantile, quantileSorted, sampleVariance } from './stats.ts';

const close = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} expected ${expected} ± ${tolerance}, got ${actual}`);

describe('normal distribution helpers', () => {
  it('match tabulated values', () => {
    close(normalQuantile(0.975), 1.959963985, 1e-8);
    close(normalQuantile(0.8), 0.841621234, 1e-8);
    close(normalQuantile(0.001), -3.090232306, 1e-7);
    close(normalCdf(1.96), 0.9750021, 2e-7);
    close(normalCdf(-1), 0.1586553, 2e-7);
    close(normalCdf(0), 0.5, 2e-7);
  });

});

describe('small helpers', () => {
  it('quantileSorted interpolates between order statistics', () => {
    // h = (4 − 1) × 0.25 = 0.75 → 1 + 0.75 × (2 − 1) = 1.75
    assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  });

  it('sampleVariance uses n − 1', () => {
    // mean 0.5; squared deviations 4 × 0.25 = 1; 1 / 3
    close(sampleVariance([0, 1, 0, 1]), 1 / 3, 1e-15);
  });

  it('holmAdjust steps down and keeps the order of its input', () => {
    // sorted 0.01, 0.03, 0.04 → 3×0.01 = 0.03, 2×0.03 = 0.06, max(0.06, 1×0.04) = 0.06
    const adjusted = holmAdjust([0.01, 0.04, 0.03]);
    close(adjusted[0] as number, 0.03, 1e-15);
    close(adjusted[1] as number, 0.06, 1e-15);
    close(adjusted[2] as number, 0.06, 1e-15);
    // 2 × 0.5 = 1, then max(1, 1 × 0.9) = 1: a larger p never gets a smaller adjusted value
    assert.deepEqual(holmAdjust([0.5, 0.9]), [1, 1]);
  });
});

describe('fillIndices', () => {
  it('draws exactly the indices createRng(seed) would', () => {
    for (const seed of [0, 7, 4_000_000_000, 'run_a:overall']) {
      for (const n of [1, 37, 1000, 999_983]) {
        const rng = createRng(seed);
        const expected = Array.from({ length: 500 }, () => rng.int(0, n));
        const out = new Int32Array(250);
        const state = fillIndices(streamState(seed), out, n);
        const first = [...out];
        fillIndices(state, out, n);
        assert.deepEqual([...first, ...out], expected, `seed ${seed}, n ${n}`);
      }
    }
  });
});

describe('bootstrapMeans', () => {
  it('is reproducible from its seed and changes with it', () => {
    const values = Float64Array.from({ length: 50 }, (_, i) => (i % 7) / 6);
    const one = bootstrapMeans([values], { seed: 'x', resamples: 500, confidence: 0.95 });
    assert.deepEqual(bootstrapMeans([values], { seed: 'x', resamples: 500, confidence: 0.95 }), one);
    assert.notDeepEqual(bootstrapMeans([values], { seed: 'y', resamples: 500, confidence: 0.95 }), one);
  });

  it('resamples every series with the same task indices', () => {
    const rates = Float64Array.from({ length: 40 }, (_, i) => (i % 3) / 2);
    const doubled = rates.map((r) => 2 * r);
    const [a, b] = bootstrapMeans([rates, doubled], { seed: 1, resamples: 300, confidence: 0.9 });
    assert.ok(a && b);
    close(b.ci[0], 2 * a.ci[0], 1e-12);
    close(b.ci[1], 2 * a.ci[1], 1e-12);
  });

  it('gives a zero-width interval when every task has the same rate', () => {
    const [e] = bootstrapMeans([new Float64Array(10).fill(0.25)], { seed: 1, resamples: 100, confidence: 0.95 });
    // flagged, so nothing downstream shows it as a certainty (group.ts adds the exact interval)
    assert.deepEqual(e, { mean: 0.25, ci: [0.25, 0.25], degenerate: true, exact: null });
    const [one] = bootstrapMeans([Float64Array.of(0.5)], { seed: 1, resamples: 100, confidence: 0.95 });
    assert.equal(one?.degenerate, true);
    const [spread] = bootstrapMeans([Float64Array.of(0, 1, 0, 1)], { seed: 1, resamples: 100, confidence: 0.95 });
    assert.equal(spread?.degenerate, false);
  });

  it('is about as wide as normal theory says for many tasks', () => {
    // 400 tasks, half pass: population sd 0.5, se = 0.5/√400 = 0.025, 95% half-width ≈ 1.96 × 0.025 = 0.049
    const values = Float64Array.from({ length: 400 }, (_, i) => i % 2);
    const [e] = bootstrapMeans([values], { seed: 3, resamples: 4000, confidence: 0.95 });
    assert.ok(e);
    close((e.ci[1] - e.ci[0]) / 2, 0.049, 0.004, 'half-width');
  });

  it('refuses to resample nothing', () => {
    assert.throws(() => bootstrapMeans([new Float64Array(0)], { seed: 1, resamples: 10, confidence: 0.95 }), /no tasks/);
  });
});

describe('signFlipTest', () => {
  it('enumerates small cases exactly', () => {
    // [1, 1, 1]: of 8 sign patterns only +++ and −−− reach |sum| ≥ 3 → 2/8
    assert.deepEqual(signFlipTest([1, 1, 1], { seed: 1, resamples: 10 }), { pValue: 0.25, exact: true });
    // zeros carry no sign information and are dropped
    assert.deepEqual(signFlipTest([1, 0, 1, 0, 1], { seed: 1, resamples: 10 }), { pValue: 0.25, exact: true });
    // [1, 0.5, −0.25]: |sums| are 1.25, 1.75, 0.25, 0.75 (each twice); ≥ 1.25 → 4/8
    assert.equal(signFlipTest([1, 0.5, -0.25], { seed: 1, resamples: 10 }).pValue, 0.5);
    assert.deepEqual(signFlipTest([0, 0], { seed: 1, resamples: 10 }), { pValue: 1, exact: true });
  });

  it('estimates by Monte Carlo beyond 16 non-zero differences, close to full enumeration', () => {
    const rng = createRng(5);
    const diffs = Array.from({ length: 18 }, () => rng.pick([-1, -1 / 3, 1 / 3, 2 / 3, 1]));
    // brute-force the exact p-value over all 2^18 sign patterns
    const observed = Math.abs(diffs.reduce((a, b) => a + b, 0));
    let hits = 0;
    for (let mask = 0; mask < 2 ** 18; mask++) {
      let sum = 0;
      diffs.forEach((d, i) => (sum += (mask >> i) & 1 ? -d : d));
      if (Math.abs(sum) >= observed - 1e-9) hits++;
    }
    const exact = hits / 2 ** 18;
    const estimate = signFlipTest(diffs, { seed: 2, resamples: 20_000 });
    assert.equal(estimate.exact, false);
    close(estimate.pValue, exact, 0.01, 'Monte Carlo p');
  });

  it('never reports p = 0 from sampling', () => {
    // two sizes of difference, so the exact sign-test path does not apply
    const result = signFlipTest(Array.from({ length: 30 }, (_, i) => (i % 2 ? 1 : 0.5)), { seed: 1, resamples: 999 });
    assert.equal(result.pValue, 1 / 1000);
  });
});
