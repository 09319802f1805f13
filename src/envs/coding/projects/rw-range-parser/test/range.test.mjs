import assert from 'node:assert/strict';
import { test } from 'node:test';
import parseRange from '../index.js';

test('parses a simple range', () => {
  const ranges = parseRange(1000, 'bytes=0-499');
  assert.equal(ranges.type, 'bytes');
  assert.deepEqual([...ranges], [{ start: 0, end: 499 }]);
});

test('reports malformed and unsatisfiable ranges', () => {
  assert.equal(parseRange(1000, 'bytes'), -2);
  assert.equal(parseRange(200, 'bytes=500-999'), -1);
});
