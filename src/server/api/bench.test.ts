import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchApiLatency } from './bench.ts';

describe('API latency bench', () => {
  it('times a long trajectory and pages of a large run over loopback, and reports what it served', { timeout: 120_000 }, async () => {
    const result = await benchApiLatency({ turns: 20, tasks: 10, epochs: 30, requests: 3, warmup: 1 });
    assert.equal(result.trajectory.turns, 20);
    assert.equal(result.runPageFirst.rollouts, 300);
    for (const figures of [result.trajectory, result.runPageFirst, result.runPageMiddle, result.runPageFiltered, result.runSummary]) {
      assert.equal(figures.n, 3);
      assert.ok(figures.p50Ms > 0 && figures.p50Ms <= figures.p99Ms);
      assert.ok(figures.bytes > 0);
    }
    // A page is a page whatever the run's size: 100 rows, far smaller than the trajectory.
    assert.ok(result.runPageMiddle.bytes > 10_000 && result.runPageMiddle.bytes < 100_000, `${result.runPageMiddle.bytes} bytes`);
  });
});
