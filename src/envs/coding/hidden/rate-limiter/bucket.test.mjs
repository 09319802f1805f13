import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../src/bucket.js';
import { RateLimiter } from '../src/limiter.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('refill', () => {
  it('refills with frequent calls (fractions accumulate)', () => {
    const c = clock();
    const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, now: c.now });
    for (let i = 0; i < 10; i++) assert.equal(bucket.tryTake(), true);
    let allowed = 0;
    for (let i = 0; i < 20; i++) {
      c.advance(50);
      if (bucket.tryTake()) allowed++;
    }
    assert.equal(allowed, 10);
  });

  it('never holds more than its capacity', () => {
    const c = clock();
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, now: c.now });
    c.advance(60_000);
    assert.equal(bucket.available(), 3);
    assert.equal(bucket.tryTake(3), true);
    assert.equal(bucket.tryTake(), false);
  });

  it('refills a partial second', () => {
    const c = clock();
    const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 2, now: c.now });
    assert.equal(bucket.tryTake(4), true);
    c.advance(500);
    assert.equal(bucket.available(), 1);
    assert.equal(bucket.tryTake(2), false);
    c.advance(500);
    assert.equal(bucket.tryTake(2), true);
  });

  it('a refused request takes nothing', () => {
    const c = clock();
    const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: c.now });
    assert.equal(bucket.tryTake(3), false);
    assert.equal(bucket.available(), 2);
  });

  it('limits each key on the shared clock', () => {
    const c = clock();
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 4, now: c.now });
    assert.equal(limiter.allow('a'), true);
    assert.equal(limiter.allow('a'), false);
    c.advance(250);
    assert.equal(limiter.allow('a'), true);
    assert.equal(limiter.allow('b'), true);
  });
});
