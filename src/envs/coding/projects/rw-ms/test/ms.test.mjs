import assert from 'node:assert/strict';
import { test } from 'node:test';
import ms from '../index.js';

test('parses whole numbers with units', () => {
  assert.equal(ms('2 days'), 172800000);
  assert.equal(ms('10h'), 36000000);
  assert.equal(ms('100'), 100);
});

test('formats milliseconds', () => {
  assert.equal(ms(60000), '1m');
  assert.equal(ms(60000, { long: true }), '1 minute');
});
