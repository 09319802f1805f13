import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildQuery, withQuery } from '../src/query.js';

test('joins simple pairs in order', () => {
  assert.equal(buildQuery({ page: 2, size: 10 }), 'page=2&size=10');
});

test('appends to a url', () => {
  assert.equal(withQuery('/items', { page: 1 }), '/items?page=1');
});
