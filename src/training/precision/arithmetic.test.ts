import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../core/index.ts';
import { engineArithmetic, sequentialFp32, splitK, trainerArithmetic } from './arithmetic.ts';
import { roundBf16Array } from './bf16.ts';

const ones = (n: number) => new Float32Array(n).fill(1);

describe('accumulation orders', () => {
  it('accumulates in float32, so small terms after a large one are lost', () => {
    const a = Float32Array.from([2 ** 24, 1, 1]);
    assert.equal(sequentialFp32.dot(a, 0, ones(3), 0, 3), 2 ** 24);
  });

  it('gets a different float32 sum when the same terms are added in another order', () => {
    const a = Float32Array.from([2 ** 24, 1, 1]);
    // chunks of one, added last first: 1 + 1 + 2^24, which float32 holds exactly
    assert.equal(splitK({ chunk: 1, partials: 'fp32' }).dot(a, 0, ones(3), 0, 3), 2 ** 24 + 2);
  });

  it('loses what a bf16 partial sum cannot hold', () => {
    const a = Float32Array.from([1, 2 ** -8, 1, 2 ** -8]);
    assert.equal(splitK({ chunk: 2, partials: 'bf16' }).dot(a, 0, ones(4), 0, 4), 2, 'each 1 + 2^-8 rounds to 1 in bf16');
    assert.equal(splitK({ chunk: 2, partials: 'fp32' }).dot(a, 0, ones(4), 0, 4), 2 + 2 ** -7);
    assert.equal(sequentialFp32.dot(a, 0, ones(4), 0, 4), 2 + 2 ** -7);
  });

  it('computes every gemv row bit for bit as its dot product would, row counts not a multiple of four included', () => {
    const rng = createRng(3);
    const rows = 7;
    const cols = 37;
    const w = roundBf16Array(Float32Array.from({ length: rows * cols }, () => rng.next() - 0.5));
    const x = roundBf16Array(Float32Array.from({ length: cols }, () => rng.next() * 4 - 2));
    for (const accumulation of [sequentialFp32, splitK({ chunk: 16, partials: 'bf16' }), splitK({ chunk: 5, partials: 'fp32' })]) {
      const out = new Float32Array(rows);
      accumulation.gemv({ w, rows, cols, x, out });
      for (let r = 0; r < rows; r++) assert.equal(out[r], Math.fround(accumulation.dot(w, r * cols, x, 0, cols)));
    }
  });

  it('gives the engine and the trainer the same arithmetic everywhere but in their sums', () => {
    const engine = engineArithmetic({ head: 'fp32', chunk: 4 });
    const trainer = trainerArithmetic();
    const a = Float32Array.from([1, 2 ** -9, 0, 0, 2 ** -9, 2 ** -9, 2 ** -9, 2 ** -9]);
    assert.equal(trainer.gemm.dot(a, 0, ones(8), 0, 8), 1 + 5 * 2 ** -9);
    assert.equal(engine.gemm.dot(a, 0, ones(8), 0, 8), 1 + 4 * 2 ** -9, "the first chunk's 1 + 2^-9 is stored as bf16 1");
    assert.equal(engine.head.dot(a, 0, ones(8), 0, 8), 1 + 5 * 2 ** -9, 'an fp32 head keeps its partial sums');
    assert.equal(engine.reduce.dot(a, 0, ones(8), 0, 8), 1 + 5 * 2 ** -9, 'other reductions keep fp32 partial sums');
  });
});
