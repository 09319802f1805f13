import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchOpenEnvStepLatency } from './bench.ts';

describe('OpenEnv step latency bench', () => {
  it('times the same number of golden steps over WebSocket and in-process', async () => {
    const bench = await benchOpenEnvStepLatency({ env: 'mail', steps: 60, warmup: 10 });
    assert.equal(bench.env, 'mail');
    for (const figures of [bench.websocket, bench.inProcess]) {
      assert.equal(figures.n, 60);
      assert.ok(Number.isFinite(figures.p50Ms) && figures.p50Ms > 0);
      assert.ok(figures.p50Ms <= figures.p99Ms);
      assert.ok(Number.isFinite(figures.meanMs));
    }
  });
});
