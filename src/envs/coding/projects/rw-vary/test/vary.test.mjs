import assert from 'node:assert/strict';
import { test } from 'node:test';
import vary from '../index.js';

test('appends fields', () => {
  assert.equal(vary.append('', 'Origin'), 'Origin');
  assert.equal(vary.append('Accept', 'Origin, User-Agent'), 'Accept, Origin, User-Agent');
});

test('sets the header on a response', () => {
  const headers = {};
  const res = { getHeader: (n) => headers[n.toLowerCase()], setHeader: (n, v) => (headers[n.toLowerCase()] = v) };
  vary(res, 'Origin');
  assert.equal(headers.vary, 'Origin');
});
