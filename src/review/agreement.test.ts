import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../core/index.ts';
import { alphaWithInterval, cohensKappa, krippendorffAlpha, type RatingValue } from './agreement.ts';

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
// twelve units, values 1–5, missing entries as null. The paper's results: nominal 0.743,
// ordinal 0.815, interval 0.849.
const OBSERVERS: (number | null)[][] = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
  [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
];
const PAPER_UNITS: number[][] = OBSERVERS[0]!.map((_, unit) => OBSERVERS.map((o) => o[unit]!).filter((v) => v !== null));

const near = (actual: number | null, expected: number, digits = 3) => {
  assert.ok(actual !== null, 'alpha is defined');
  assert.equal(Number(actual.toFixed(digits)), expected, `${actual} rounds to ${expected}`);
};

describe("Krippendorff's alpha", () => {
  it("matches the published worked example (Krippendorff 2011) at the nominal, ordinal and interval levels", () => {
    near(krippendorffAlpha(PAPER_UNITS, 'nominal'), 0.743);
    near(krippendorffAlpha(PAPER_UNITS, 'ordinal'), 0.815);
    near(krippendorffAlpha(PAPER_UNITS, 'interval'), 0.849);
  });

  it('matches a hand-worked nominal example: two reviewers, four units (aa, ab, bb, bb) give 1 − 7·2/30 = 8/15', () => {
    // Coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 4; n_a = 3, n_b = 5, n = 8.
    const alpha = krippendorffAlpha([['a', 'a'], ['a', 'b'], ['b', 'b'], ['b', 'b']], 'nominal');
    assert.ok(alpha !== null);
    assert.ok(Math.abs(alpha - 8 / 15) < 1e-12, `got ${alpha}`);
  });

  it('weighs ordinal disagreements by the distance in ranks: −1 against +1 costs more than −1 against 0', () => {
    const base: RatingValue[][] = [[-1, -1], [0, 0], [1, 1], [1, 1], [0, 0], [-1, -1]];
    const near = krippendorffAlpha([...base, [-1, 0]], 'ordinal')!;
    const far = krippendorffAlpha([...base, [-1, 1]], 'ordinal')!;
    assert.ok(far < near, `far ${far} < near ${near}`);
    // Nominally both are one disagreement.
    assert.equal(krippendorffAlpha([...base, [-1, 0]], 'nominal'), krippendorffAlpha([...base, [-1, 1]], 'nominal'));
  });

  it('is 1 for perfect agreement and leaves units with a single value out', () => {
    assert.equal(krippendorffAlpha([['x', 'x'], ['y', 'y', 'y'], ['z']], 'nominal'), 1);
  });

  it('is undefined (null), not 0 or 1, with nothing pairable or no variation', () => {
    assert.equal(krippendorffAlpha([['a'], ['b']], 'nominal'), null);
    assert.equal(krippendorffAlpha([['a', 'a'], ['a', 'a']], 'nominal'), null);
    assert.equal(krippendorffAlpha([], 'ordinal'), null);
  });

  it('refuses non-numeric values at the ordinal level', () => {
    assert.throws(() => krippendorffAlpha([['low', 'high']], 'ordinal'), /ordinal alpha needs numeric values/);
  });

  it('brackets the estimate with a seeded bootstrap interval over units', () => {
    const a = alphaWithInterval(PAPER_UNITS, { level: 'nominal', resamples: 500, seed: 3, reviewers: 4 });
    const b = alphaWithInterval(PAPER_UNITS, { level: 'nominal', resamples: 500, seed: 3, reviewers: 4 });
    assert.deepEqual(a, b, 'same seed, same interval');
    assert.ok(a.ci && a.alpha !== null);
    assert.ok(a.ci[0] <= a.alpha && a.alpha <= a.ci[1], `${a.ci} contains ${a.alpha}`);
    assert.ok(a.ci[0] < a.ci[1]);
    assert.equal(a.units, 11); // unit 12 has a single value
    assert.equal(a.values, 40);
    assert.ok(a.resamples > 400 && a.resamples <= 500);
  });

  it('gives each resample the bits krippendorffAlpha gives it, at every level (the resampling kernel sums the same terms in the same order)', () => {
    // The interval as the bootstrap was first written: each resample's alpha recomputed from its values.
    const reference = (units: RatingValue[][], level: 'nominal' | 'ordinal' | 'interval', seed: number, resamples: number) => {
      const rng = createRng(seed);
      const draws: number[] = [];
      for (let b = 0; b < resamples; b++) {
        const value = krippendorffAlpha(units.map(() => units[rng.int(0, units.length)]!), level);
        if (value !== null) draws.push(value);
      }
      return draws.sort((x, y) => x - y);
    };
    const rng = createRng(7);
    for (let trial = 0; trial < 60; trial++) {
      const level = (['nominal', 'ordinal', 'interval'] as const)[trial % 3]!;
      const values: RatingValue[] = level === 'nominal' ? ['accept', 'reject', 'unsafe', 'tie'] : [-1, 0, 1, 2.5, -3.25];
      // Units of two to five values (weights 1, 1/2, 1/3, 1/4), some values rare, so resamples miss categories.
      const units = Array.from({ length: 3 + rng.int(0, 25) }, () => Array.from({ length: 2 + rng.int(0, 4) }, () => values[rng.next() < 0.6 ? 0 : rng.int(0, values.length)]!));
      const draws = reference(units, level, trial, 200);
      const estimate = alphaWithInterval(units, { level, resamples: 200, seed: trial });
      assert.equal(estimate.resamples, draws.length);
      if (draws.length === 0) continue;
      const at = (p: number) => {
        const [i, lo, hi] = [p * (draws.length - 1), Math.floor(p * (draws.length - 1)), Math.ceil(p * (draws.length - 1))];
        return draws[lo]! + (draws[hi]! - draws[lo]!) * (i - lo);
      };
      const tail = (1 - 0.95) / 2;
      assert.deepEqual(estimate.ci, [at(tail), at(1 - tail)], `${level} trial ${trial}: ${JSON.stringify(units)}`);
    }
  });

  it('refuses non-finite values, naming the unit (NaN broke the category order; an infinite distance made every sum NaN)', () => {
    assert.throws(() => krippendorffAlpha([[1, 0], [1, Number.NaN]], 'ordinal'), /unit 1, value 1 is NaN \(expected a finite number or a string\)/);
    assert.throws(() => alphaWithInterval([[1, 1], [Infinity, 0]], { level: 'interval', resamples: 10 }), /unit 1, value 0 is Infinity/);
    assert.throws(() => krippendorffAlpha([['a', 'b'], ['a', Number.NaN]], 'nominal'), /value 1 is NaN/);
  });

  it('refuses a resample count or confidence it cannot use, instead of a silent empty or NaN interval', () => {
    for (const resamples of [-1, 2.5, Number.NaN]) assert.throws(() => alphaWithInterval(PAPER_UNITS, { level: 'nominal', resamples }), /resamples is .* \(expected a whole number, 0 or more\)/);
    for (const confidence of [0, 1, 1.5, Number.NaN]) assert.throws(() => alphaWithInterval(PAPER_UNITS, { level: 'nominal', confidence }), /confidence is .* \(expected a number between 0 and 1, exclusive\)/);
  });

  it('has an interval of one value when every resample agrees, and none from zero resamples', () => {
    // All units identical but one: most resamples miss the odd unit and have no variation (undefined, dropped).
    const one = alphaWithInterval([['a', 'b'], ['a', 'a'], ['a', 'a'], ['b', 'b']], { level: 'nominal', resamples: 0 });
    assert.ok(one.alpha !== null);
    assert.equal(one.ci, null);
    assert.equal(one.resamples, 0);
    const single = alphaWithInterval([['a', 'a'], ['b', 'b']], { level: 'nominal', resamples: 200, seed: 1 });
    assert.equal(single.alpha, 1);
    assert.deepEqual(single.ci, [1, 1]);
    assert.ok(single.resamples > 0 && single.resamples < 200, 'resamples of one unit twice are undefined and dropped');
  });

  it('gives no interval when alpha itself is undefined', () => {
    const estimate = alphaWithInterval([['a', 'a']], { level: 'nominal', resamples: 50 });
    assert.equal(estimate.alpha, null);
    assert.equal(estimate.ci, null);
  });
});

describe("Cohen's kappa", () => {
  it('matches the textbook example: 50 applications, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → p_o 0.7, p_e 0.5, κ 0.4', () => {
    const pairs: [string, string][] = [
      ...Array.from({ length: 20 }, () => ['yes', 'yes'] as [string, string]),
      ...Array.from({ length: 5 }, () => ['yes', 'no'] as [string, string]),
      ...Array.from({ length: 10 }, () => ['no', 'yes'] as [string, string]),
      ...Array.from({ length: 15 }, () => ['no', 'no'] as [string, string]),
    ];
    const result = cohensKappa(pairs);
    assert.equal(result.n, 50);
    assert.ok(Math.abs(result.observedAgreement! - 0.7) < 1e-12);
    assert.ok(Math.abs(result.expectedAgreement! - 0.5) < 1e-12);
    assert.ok(Math.abs(result.kappa! - 0.4) < 1e-12);
  });

  it('matches a hand-worked three-category example', () => {
    // A: accept accept reject unsafe;  B: accept reject reject unsafe.
    // p_o = 3/4; p_e = (2/4)(1/4) + (1/4)(2/4) + (1/4)(1/4) = 5/16; κ = (12/16 − 5/16) / (11/16) = 7/11.
    const result = cohensKappa([
      ['accept', 'accept'],
      ['accept', 'reject'],
      ['reject', 'reject'],
      ['unsafe', 'unsafe'],
    ]);
    assert.ok(Math.abs(result.kappa! - 7 / 11) < 1e-12, `got ${result.kappa}`);
  });

  it('is undefined when there is nothing shared or chance agreement is already total', () => {
    assert.equal(cohensKappa([]).kappa, null);
    assert.equal(cohensKappa([['a', 'a'], ['a', 'a']]).kappa, null);
  });

  it('refuses non-finite values (NaN never equals itself, yet counted as one category)', () => {
    assert.throws(() => cohensKappa([['a', 'a'], [Number.NaN, Number.NaN]]), /pair 1 holds NaN \(expected a finite number or a string\)/);
  });
});
