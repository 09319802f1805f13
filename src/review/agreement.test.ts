import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
