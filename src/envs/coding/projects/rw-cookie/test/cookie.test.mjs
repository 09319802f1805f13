import assert from 'node:assert/strict';
import { test } from 'node:test';
import cookie from '../index.js';

test('parses a cookie header', () => {
  assert.deepEqual(cookie.parse('foo=bar; equation=E%3Dmc%5E2'), { foo: 'bar', equation: 'E=mc^2' });
});

test('serializes a cookie', () => {
  assert.equal(cookie.serialize('foo', 'bar', { httpOnly: true, path: '/' }), 'foo=bar; Path=/; HttpOnly');
});
