import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationMinutes, overlaps, parseRange } from '../src/range.js';

test('parses a UTC range', () => {
  const r = parseRange('2024-03-01T10:00/2024-03-01T12:30');
  assert.equal(r.start.toISOString(), '2024-03-01T10:00:00.000Z');
  assert.equal(durationMinutes(r), 150);
});

test('end may be a time only', () => {
  assert.equal(parseRange('2024-03-01T10:00/11:00').end.toISOString(), '2024-03-01T11:00:00.000Z');
});

test('rejects reversed ranges', () => {
  assert.throws(() => parseRange('2024-03-01T10:00/09:00'), /before/);
});

test('touching ranges do not overlap', () => {
  assert.equal(overlaps(parseRange('2024-03-01T10:00/11:00'), parseRange('2024-03-01T11:00/12:00')), false);
});
