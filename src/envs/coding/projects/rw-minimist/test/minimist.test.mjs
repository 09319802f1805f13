import assert from 'node:assert/strict';
import { test } from 'node:test';
import parse from '../index.js';

test('parses flags and positionals', () => {
  assert.deepEqual(parse(['-x', '3', '-y', '4', '-n5', '-abc', '--beep=boop', 'foo', 'bar', 'baz']), {
    _: ['foo', 'bar', 'baz'],
    x: 3,
    y: 4,
    n: 5,
    a: true,
    b: true,
    c: true,
    beep: 'boop',
  });
});

test('parses booleans', () => {
  assert.deepEqual(parse(['--verbose', 'file'], { boolean: ['verbose'] }), { _: ['file'], verbose: true });
});
