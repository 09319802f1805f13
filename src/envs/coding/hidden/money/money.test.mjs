import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCents, splitEvenly, toCents } from '../src/index.js';

describe('money edge cases', () => {
  it('parses amounts that are not exact in binary floating point', () => {
    assert.equal(toCents('0.29'), 29);
    assert.equal(toCents('1.15'), 115);
    assert.equal(toCents('4.35'), 435);
    assert.equal(toCents('19.99'), 1999);
  });

  it('parses negative amounts', () => {
    assert.equal(toCents('-0.29'), -29);
    assert.equal(toCents('-12.5'), -1250);
  });

  it('still rejects malformed amounts', () => {
    assert.throws(() => toCents('1.234'));
    assert.throws(() => toCents('abc'));
  });

  it('puts the minus sign before the symbol', () => {
    assert.equal(formatCents(-500), '-$5.00');
    assert.equal(formatCents(-123456, 'GBP'), '-£1,234.56');
  });

  it('formats amounts under one unit, including negative ones', () => {
    assert.equal(formatCents(7), '$0.07');
    assert.equal(formatCents(-7), '-$0.07');
  });

  it('split shares add up to the total', () => {
    assert.deepEqual(splitEvenly(1000, 3), [334, 333, 333]);
    assert.deepEqual(splitEvenly(101, 4), [26, 25, 25, 25]);
    assert.deepEqual(splitEvenly(2, 3), [1, 1, 0]);
  });
});
