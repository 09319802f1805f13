import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { merge, totalLength } from '../src/intervals.js';

describe('merge', () => {
  it('sorts unsorted input', () => {
    assert.deepEqual(merge([[8, 9], [1, 4], [2, 6]]), [[1, 6], [8, 9]]);
  });

  it('joins touching intervals', () => {
    assert.deepEqual(merge([[1, 3], [3, 5]]), [[1, 5]]);
  });

  it('keeps the end of an interval that contains the next', () => {
    assert.deepEqual(merge([[1, 10], [2, 3], [4, 5]]), [[1, 10]]);
  });

  it('does not modify its input', () => {
    const input = [[5, 7], [1, 6]];
    const copy = JSON.parse(JSON.stringify(input));
    merge(input);
    assert.deepEqual(input, copy);
  });

  it('handles empty input and a single point', () => {
    assert.deepEqual(merge([]), []);
    assert.deepEqual(merge([[2, 2]]), [[2, 2]]);
  });

  it('measures the merged length', () => {
    assert.equal(totalLength([[5, 8], [0, 2], [1, 3], [3, 4]]), 7);
  });
});
