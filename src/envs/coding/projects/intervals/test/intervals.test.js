import assert from 'node:assert/strict';
import { test } from 'node:test';
import { merge, totalLength } from '../src/intervals.js';

test('merges overlapping sorted intervals', () => {
  assert.deepEqual(merge([[1, 4], [2, 6], [8, 9]]), [[1, 6], [8, 9]]);
});

test('keeps disjoint intervals', () => {
  assert.deepEqual(merge([[1, 2], [5, 6]]), [[1, 2], [5, 6]]);
  assert.equal(totalLength([[1, 2], [5, 6]]), 2);
});
