import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LRUCache } from '../src/lru.js';

test('stores and returns values', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.size, 2);
});

test('evicts when full', () => {
  const cache = new LRUCache(2);
  cache.set('a', 1).set('b', 2).set('c', 3);
  assert.equal(cache.size, 2);
  assert.equal(cache.has('c'), true);
});

test('rejects a bad size', () => {
  assert.throws(() => new LRUCache(0), RangeError);
});
