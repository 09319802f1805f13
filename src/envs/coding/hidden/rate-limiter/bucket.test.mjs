// Hidden suite for coding/rate-limiter-refill. Each probe runs in the sandbox and returns a value;
// the expectation beside it stays in the grader.
export default {
  imports: { TokenBucket: 'src/bucket.js#TokenBucket', RateLimiter: 'src/limiter.js#RateLimiter' },
  setup: () => ({
    clock() {
      let t = 1_000_000;
      return { now: () => t, advance: (ms) => (t += ms) };
    },
  }),
  cases: [
    {
      name: 'refills with frequent calls (fractions accumulate)',
      run: ({ TokenBucket, clock }) => {
        const c = clock();
        const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, now: c.now });
        const first = [];
        for (let i = 0; i < 10; i++) first.push(bucket.tryTake());
        let allowed = 0;
        for (let i = 0; i < 20; i++) {
          c.advance(50);
          if (bucket.tryTake()) allowed++;
        }
        return { first, allowed };
      },
      expect: { first: Array(10).fill(true), allowed: 10 },
    },
    {
      name: 'never holds more than its capacity',
      run: ({ TokenBucket, clock }) => {
        const c = clock();
        const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 1, now: c.now });
        c.advance(60_000);
        return [bucket.available(), bucket.tryTake(3), bucket.tryTake()];
      },
      expect: [3, true, false],
    },
    {
      name: 'refills a partial second',
      run: ({ TokenBucket, clock }) => {
        const c = clock();
        const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 2, now: c.now });
        const seen = [bucket.tryTake(4)];
        c.advance(500);
        seen.push(bucket.available(), bucket.tryTake(2));
        c.advance(500);
        seen.push(bucket.tryTake(2));
        return seen;
      },
      expect: [true, 1, false, true],
    },
    {
      name: 'a refused request takes nothing',
      run: ({ TokenBucket, clock }) => {
        const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: clock().now });
        return [bucket.tryTake(3), bucket.available()];
      },
      expect: [false, 2],
    },
    {
      name: 'limits each key on the shared clock',
      run: ({ RateLimiter, clock }) => {
        const c = clock();
        const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 4, now: c.now });
        const seen = [limiter.allow('a'), limiter.allow('a')];
        c.advance(250);
        seen.push(limiter.allow('a'), limiter.allow('b'));
        return seen;
      },
      expect: [true, false, true, true],
    },
  ],
};
