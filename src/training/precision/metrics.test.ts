import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { comparePrecision, k3Term, niceWidth, PrecisionAccumulator, type ComparedSequence } from './metrics.ts';

const close = (actual: number | null, expected: number, tolerance = 1e-9) => {
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
};

// Hand-worked: position 0 is the prompt (not compared); the sampled tokens have inference
// probabilities 0.5, 0.25, 0.8 and trainer probabilities 0.25, 0.25, 0.9.
// Δ = ln(0.25/0.5) = −ln 2, ln(1) = 0, ln(0.9/0.8) = ln 1.125.
const LN2 = Math.log(2);
const LN1125 = Math.log(1.125);
const worked: ComparedSequence = {
  id: 'a',
  tokenIds: [5, 6, 7, 8],
  inference: [0, Math.log(0.5), Math.log(0.25), Math.log(0.8)],
  trainer: [0, Math.log(0.25), Math.log(0.25), Math.log(0.9)],
  compare: [0, 1, 1, 1],
};

describe('precision metrics', () => {
  it('gives mean and max |Δ logprob| and the signed mean over compared tokens only', () => {
    const stats = comparePrecision([worked]);
    assert.equal(stats.tokens, 3);
    close(stats.meanAbsDelta, (LN2 + LN1125) / 3); // 0.270310
    close(stats.maxAbsDelta, LN2);
    close(stats.meanDelta, (-LN2 + LN1125) / 3); // −0.191788
  });

  it('estimates KL(inference ‖ trainer) with k1 = −log r and k3 = (r − 1) − log r', () => {
    const stats = comparePrecision([worked]);
    close(stats.k1, (LN2 - LN1125) / 3); // 0.191788
    // r = 0.5: −0.5 + ln 2 = 0.193147; r = 1: 0; r = 1.125: 0.125 − ln 1.125 = 0.007217
    close(stats.k3, (-0.5 + LN2 + 0.125 - LN1125) / 3); // 0.066788
  });

  it('correlates the token probabilities (Pearson)', () => {
    // deviations from the means 0.51667 and 0.46667: Σ dx·dy = 0.184167, Σ dx² = 0.151667, Σ dy² = 0.281667
    close(comparePrecision([worked]).pearson, 0.184166667 / Math.sqrt(0.151666667 * 0.281666667), 1e-8); // 0.891042
    const constant: ComparedSequence = { id: 'c', tokenIds: [1, 2], inference: [-1, -1], trainer: [-0.5, -2], compare: [1, 1] };
    assert.equal(comparePrecision([constant]).pearson, null, 'no correlation when one side does not vary');
  });

  it('keeps k3 accurate and non-negative for tiny differences', () => {
    assert.ok(k3Term(1e-10) > 0);
    close(k3Term(1e-10), 5e-21, 1e-25); // Δ²/2, where (exp(Δ) − 1) − Δ computed naively would be off by ~1e-17
    close(k3Term(-1e-6), 5e-13, 1e-18);
  });

  it('buckets by inference probability', () => {
    const [b0, b1, b2, b3, b4] = comparePrecision([worked]).byProbability;
    assert.deepEqual([b0?.from, b1?.from, b2?.from, b3?.from, b4?.from, b4?.to], [0, 0.1, 0.5, 0.9, 0.99, 1]);
    assert.equal(b0?.tokens, 0);
    assert.equal(b0?.meanAbsDelta, null);
    assert.equal(b1?.tokens, 1, 'p = 0.25');
    assert.equal(b1?.meanAbsDelta, 0);
    assert.equal(b2?.tokens, 2, 'p = 0.5 and p = 0.8');
    close(b2?.meanAbsDelta ?? null, (LN2 + LN1125) / 2);
    close(b2?.k3 ?? null, (-0.5 + LN2 + 0.125 - LN1125) / 2);
    const certain: ComparedSequence = { id: 'p1', tokenIds: [1, 2], inference: [0, Math.log(0.995)], trainer: [0, Math.log(0.99)], compare: [1, 1] };
    assert.equal(comparePrecision([certain]).byProbability[4]?.tokens, 2, 'p = 1 falls in the last bucket, [0.99, 1]');
  });

  it('buckets by position with a round width and skips empty buckets', () => {
    assert.deepEqual(
      comparePrecision([worked]).byPosition.map((b) => [b.from, b.to, b.tokens]),
      [
        [1, 2, 1],
        [2, 3, 1],
        [3, 4, 1],
      ],
    );
    const two = comparePrecision([worked], { positionBuckets: 2 }).byPosition;
    assert.deepEqual(two.map((b) => [b.from, b.to, b.tokens]), [
      [0, 2, 1],
      [2, 4, 2],
    ]);
    close(two[1]?.meanAbsDelta ?? null, LN1125 / 2);
    assert.deepEqual([niceWidth(4096, 10), niceWidth(64, 10), niceWidth(3, 10), niceWidth(100_000, 8)], [500, 10, 1, 20_000]);
  });

  it('lists the worst tokens with their neighbouring ids, worst first', () => {
    const worst = comparePrecision([worked], { top: 2, context: { before: 2, after: 1 } }).worst;
    assert.deepEqual(
      worst.map((t) => [t.sequenceId, t.position, t.tokenId, t.before, t.after]),
      [
        ['a', 1, 6, [5], [7]],
        ['a', 3, 8, [6, 7], []],
      ],
    );
    close(worst[0]?.absDelta ?? null, LN2);
    close(worst[0]?.inferenceLogprob ?? null, Math.log(0.5));
    close(worst[0]?.trainerLogprob ?? null, Math.log(0.25));
  });

  it('gives each sequence its mean |Δ| and its sequence-level log-ratio', () => {
    const same: ComparedSequence = { id: 'b', tokenIds: [1, 2], inference: [-0.5, -1], trainer: [-0.5, -1], compare: [1, 1] };
    const empty: ComparedSequence = { id: 'e', tokenIds: [1], inference: [0], trainer: [0], compare: [0] };
    const stats = comparePrecision([same, worked, empty]);
    assert.equal(stats.sequences.count, 2, 'a sequence with nothing compared has no row');
    assert.deepEqual(stats.sequences.worst.map((r) => [r.id, r.tokens]), [
      ['a', 3],
      ['b', 2],
    ]);
    const a = stats.sequences.worst[0]!;
    close(a.logRatio, -LN2 + LN1125); // −0.575364
    close(a.meanLogRatio, (-LN2 + LN1125) / 3);
    close(a.meanAbsDelta, (LN2 + LN1125) / 3);
    close(stats.sequences.meanLogRatio?.min ?? null, (-LN2 + LN1125) / 3);
    assert.equal(stats.sequences.meanLogRatio?.max, 0);
    assert.equal(stats.histogram.exact, 3, 'two tokens of b and one of a are identical');
    assert.equal(stats.histogram.bins.reduce((n, b) => n + b.count, 0), 2);
    assert.equal(stats.histogram.bins.find((b) => b.from === 0.1)?.count, 2, '|Δ| of 0.118 and 0.693 fall in [0.1, 1)');
  });

  it('gives the same figures streamed one sequence at a time as all at once, at any point', () => {
    const accumulator = new PrecisionAccumulator();
    accumulator.add(worked);
    assert.equal(accumulator.result().tokens, 3);
    const other: ComparedSequence = { id: 'z', tokenIds: [9, 9], inference: [-2, -3], trainer: [-2.5, -3], compare: [1, 0] };
    accumulator.add(other);
    assert.deepEqual(accumulator.result(), comparePrecision([worked, other]));
  });

  it('refuses what it cannot compare, naming the sequence and position, instead of answering NaN or Infinity', () => {
    const bad: [Omit<ComparedSequence, 'id'>, RegExp][] = [
      [{ tokenIds: [1, 2, 3], inference: [-1, -1], trainer: [-1, -1, -2], compare: [1, 1, 1] }, /^sequence "s": 2 inference entries for 3 token ids/],
      [{ tokenIds: [1, 2], inference: [-1, -1], trainer: [-1, -1], compare: [1] }, /1 compare entries for 2 token ids/],
      [{ tokenIds: [1, 2], inference: [-1, Number.NaN], trainer: [-1, -1], compare: [1, 1] }, /^sequence "s", position 1: the inference logprob is missing/],
      [{ tokenIds: [1, 2], inference: [-1, -1], trainer: [0.5, -1], compare: [1, 1] }, /position 0: the trainer logprob 0\.5 is not a logprob/],
      [{ tokenIds: [1, 2], inference: [-9999, -1], trainer: [-2, -1], compare: [1, 1] }, /position 0: the inference logprob -9999 is below -744\.44/],
      [{ tokenIds: [1, 2], inference: [-1, -1], trainer: [-1, -3.4e38], compare: [1, 1] }, /position 1: the trainer logprob -3\.4e\+38 is below/],
      [{ tokenIds: [1, 2], inference: [-1, -720], trainer: [-1, -2], compare: [1, 1] }, /position 1: trainer − inference = 718: .* beyond e\^600/],
    ];
    for (const [sequence, pattern] of bad) {
      assert.throws(() => comparePrecision([{ id: 's', ...sequence }]), (error: unknown) => error instanceof InputError && pattern.test(error.message), String(pattern));
    }
    // Near the limit every figure is still a finite number.
    const far: ComparedSequence = { id: 'f', tokenIds: [1, 2, 3], inference: [-600, -600, -744], trainer: [0, 0, -744.4], compare: [1, 1, 1] };
    const stats = comparePrecision([far, { ...far, id: 'g' }]);
    for (const value of [stats.meanAbsDelta, stats.k1, stats.k3, stats.meanDelta]) assert.ok(Number.isFinite(value), `${value}`);
    assert.ok(comparePrecision([{ id: 'm', tokenIds: [1], inference: [-9999], trainer: [-1], compare: [0] }]).tokens === 0, 'positions not compared are not checked');
  });

  it('reports no figure rather than a made-up one when nothing is compared', () => {
    const stats = comparePrecision([]);
    assert.deepEqual([stats.tokens, stats.meanAbsDelta, stats.k1, stats.k3, stats.pearson], [0, null, null, null, null]);
    assert.deepEqual(stats.byPosition, []);
  });
});
