import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../core/index.ts';
import { isBf16, roundBf16, roundBf16Array } from './bf16.ts';

describe('bfloat16 rounding', () => {
  it('keeps values that bf16 holds exactly, signed zeros included', () => {
    for (const x of [0, 1, -2, 0.5, 1.5, 3.140625, 2 ** -133, 3.3895313892515355e38]) assert.equal(roundBf16(x), x, String(x));
    assert.ok(Object.is(roundBf16(-0), -0));
  });

  it('rounds to the nearest bf16, ties to the even neighbour', () => {
    assert.equal(roundBf16(1 + 2 ** -8), 1, 'halfway between 1 and 1 + 2^-7: the even one is 1');
    assert.equal(roundBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6, 'halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6');
    assert.equal(roundBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7, 'just above halfway rounds up');
    assert.equal(roundBf16(-(1 + 2 ** -8 + 2 ** -20)), -(1 + 2 ** -7));
    assert.equal(roundBf16(Math.PI), 3.140625);
    assert.equal(roundBf16(1 / 3), 0.333984375);
    assert.equal(roundBf16(65504), 65536, "float16's largest value is not a bf16");
  });

  it('overflows past the largest bf16 to infinity and keeps NaN and infinities', () => {
    assert.equal(roundBf16(3.4028234663852886e38), Infinity);
    assert.equal(roundBf16(-3.4028234663852886e38), -Infinity);
    assert.equal(roundBf16(Infinity), Infinity);
    assert.equal(roundBf16(-Infinity), -Infinity);
    assert.ok(Number.isNaN(roundBf16(Number.NaN)));
  });

  it('flushes float32 subnormals below half of the smallest bf16 subnormal to zero', () => {
    assert.equal(roundBf16(2 ** -149), 0);
    assert.equal(roundBf16(2 ** -134 + 2 ** -140), 2 ** -133, 'above half of 2^-133 rounds up to it');
  });

  it('rounds arrays in place exactly as it rounds scalars', () => {
    const rng = createRng(7);
    const values = Float32Array.from({ length: 1000 }, () => (rng.next() - 0.5) * 10 ** rng.int(-8, 8));
    const expected = Array.from(values, (v) => roundBf16(v));
    const out = roundBf16Array(values);
    assert.equal(out, values);
    assert.deepEqual(Array.from(out), expected);
    assert.ok(expected.every(isBf16));
    assert.equal(isBf16(0.1), false);
  });
});
