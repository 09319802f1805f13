import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compare, parse, sort } from '../src/index.js';

test('parses a full version', () => {
  const v = parse('1.2.3-beta.1+build.7');
  assert.deepEqual(v.prerelease, ['beta', '1']);
  assert.deepEqual(v.build, ['build', '7']);
});

test('orders simple versions', () => {
  assert.equal(compare('1.2.3', '1.2.4'), -1);
  assert.equal(compare('2.0.0', '1.9.9'), 1);
  assert.equal(compare('1.0.0', '1.0.0'), 0);
  assert.deepEqual(sort(['1.1.0', '1.0.1', '1.0.0']), ['1.0.0', '1.0.1', '1.1.0']);
});
