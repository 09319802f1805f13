import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchRemoteSandbox } from './index.ts';

describe('benchRemoteSandbox', () => {
  it('reports local and remote exec latency over the same backend (figures, no timing asserts)', async () => {
    const bench = await benchRemoteSandbox({ commands: 5 });
    assert.equal(bench.commands, 5);
    for (const side of [bench.local, bench.remote]) {
      assert.ok(side.p50Ms > 0 && side.p99Ms >= side.p50Ms, JSON.stringify(side));
    }
  });
});
