import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCents, splitEvenly, toCents } from '../src/index.js';

test('parses whole amounts', () => {
  assert.equal(toCents('12'), 1200);
  assert.equal(toCents('12.5'), 1250);
});

test('formats positive amounts', () => {
  assert.equal(formatCents(123450, 'EUR'), '€1,234.50');
});

test('splits amounts that divide evenly', () => {
  assert.deepEqual(splitEvenly(900, 3), [300, 300, 300]);
});
