// One token bucket per client key.
import { TokenBucket } from './bucket.js';

export class RateLimiter {
  #buckets = new Map();

  constructor(options) {
    this.options = options;
  }

  allow(key, cost = 1) {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.options);
      this.#buckets.set(key, bucket);
    }
    return bucket.tryTake(cost);
  }
}
