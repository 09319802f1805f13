import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../src/bucket.js';
import { RateLimiter } from '../src/limiter.js';

test('starts full and empties', () => {
  const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: () => 0 });
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), true);
  assert.equal(bucket.tryTake(), false);
});

test('keeps buckets per key', () => {
  const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: () => 0 });
  assert.equal(limiter.allow('a'), true);
  assert.equal(limiter.allow('a'), false);
  assert.equal(limiter.allow('b'), true);
});
