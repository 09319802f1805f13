import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LRUCache } from '../src/lru.js';

describe('least recently used eviction', () => {
  it('keeps an entry that was read recently', () => {
    const cache = new LRUCache(2);
    cache.set('a', 1).set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    assert.equal(cache.has('a'), true);
    assert.equal(cache.has('b'), false);
  });

  it('peek does not count as a use', () => {
    const cache = new LRUCache(2);
    cache.set('a', 1).set('b', 2);
    assert.equal(cache.peek('a'), 1);
    cache.set('c', 3);
    assert.equal(cache.has('a'), false);
  });

  it('updating a cached key evicts nothing', () => {
    const cache = new LRUCache(2);
    cache.set('a', 1).set('b', 2).set('a', 10);
    assert.deepEqual(cache.keys(), ['b', 'a']);
    assert.equal(cache.get('a'), 10);
    assert.equal(cache.get('b'), 2);
  });

  it('an updated key becomes the most recently used', () => {
    const cache = new LRUCache(3);
    cache.set('a', 1).set('b', 2).set('c', 3).set('a', 4).set('d', 5);
    assert.deepEqual(cache.keys(), ['c', 'a', 'd']);
  });

  it('a miss changes nothing', () => {
    const cache = new LRUCache(2);
    cache.set('a', 1).set('b', 2);
    assert.equal(cache.get('zzz'), undefined);
    assert.deepEqual(cache.keys(), ['a', 'b']);
  });

  it('keeps falsy values and refreshes them', () => {
    const cache = new LRUCache(2);
    cache.set('zero', 0).set('b', 2);
    assert.equal(cache.get('zero'), 0);
    cache.set('c', 3);
    assert.deepEqual(cache.keys(), ['zero', 'c']);
  });
});
