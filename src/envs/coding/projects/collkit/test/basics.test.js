import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as c from '../src/index.js';

test('chunk splits evenly divisible lists', () => {
  assert.deepEqual(c.chunk([1, 2, 3, 4], 2), [[1, 2], [3, 4]]);
});

test('zip pairs lists of equal length', () => {
  assert.deepEqual(c.zip([1, 2], ['a', 'b']), [[1, 'a'], [2, 'b']]);
});

test('range counts up', () => {
  assert.deepEqual(c.range(0, 3), [0, 1, 2]);
});

test('sortBy sorts by one key', () => {
  assert.deepEqual(c.sortBy([{ n: 2 }, { n: 1 }], 'n'), [{ n: 1 }, { n: 2 }]);
});

test('intersection keeps shared values', () => {
  assert.deepEqual(c.intersection([1, 2, 3], [3, 1]), [1, 3]);
});
