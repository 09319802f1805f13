// The repo's own tests (test/bucket.test.js), judged in the grader: run in the sandbox, they could
// be patched or rewritten by the code they test.
export default {
  imports: { TokenBucket: 'src/bucket.js#TokenBucket', RateLimiter: 'src/limiter.js#RateLimiter' },
  cases: [
    {
      name: 'starts full and empties',
      run: ({ TokenBucket }) => {
        const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: () => 0 });
        return [bucket.tryTake(), bucket.tryTake(), bucket.tryTake()];
      },
      expect: [true, true, false],
    },
    {
      name: 'keeps buckets per key',
      run: ({ RateLimiter }) => {
        const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, now: () => 0 });
        return [limiter.allow('a'), limiter.allow('a'), limiter.allow('b')];
      },
      expect: [true, false, true],
    },
  ],
};
