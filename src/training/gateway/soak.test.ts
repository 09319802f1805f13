import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RolloutId, RunId } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { startFakeEngine, toolWalkPolicy, type FakeEngine } from '../fake-engine/index.ts';
import { gatewayBaseUrl, startGateway } from './index.ts';
import { RECORD_FAILURES_KEPT } from './server.ts';
import { postJson } from './test-support.ts';

// A gateway runs for weeks: what it holds per rollout must be let go when the rollout ends, on the
// paths where a request is refused or a record cannot be written as much as on the happy one.

const ASK = { messages: [{ role: 'user', content: 'Fix the parser.' }] };

describe('gateway state over many rollouts', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
  });
  after(() => engine.close());

  it('opens no run-mode rollout for a call refused for asking several choices, however many arrive', async () => {
    const store = openStore(':memory:');
    // Never abandoned: whatever a refused call left open would stay for the life of the gateway.
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_refused', abandonAfterMs: 0 });
    try {
      for (let i = 0; i < 1000; i++) {
        const refused = await postJson(`${gatewayBaseUrl(gateway.url, `ro_${i}`)}/chat/completions`, { ...ASK, n: 2 });
        assert.equal(refused.status, 400, refused.text);
      }
      assert.deepEqual(gateway.stats().rollouts, { attached: 0, open: 0, finished: 0, abandoned: 0 });
      const finish = await postJson(`${gateway.url}/rollouts/ro_0/finish`, {});
      assert.equal(finish.status, 404, 'a refused call made no rollout to finish');
      // The id is still free for a real call.
      assert.equal((await postJson(`${gatewayBaseUrl(gateway.url, 'ro_0')}/chat/completions`, ASK)).status, 200);
      assert.equal((await postJson(`${gateway.url}/rollouts/ro_0/finish`, {})).status, 200);
    } finally {
      await gateway.close();
    }
    assert.deepEqual(store.rollouts('run_refused').map((r) => [r.id, r.status]), [['ro_0', 'scored']], 'no cancelled rollout without calls was stored at shutdown');
    store.close();
  });

  it('keeps word of a bounded number of recorder failures, and counts every one', async () => {
    const gateway = await startGateway({ upstream: engine.url });
    const rollouts = 2 * RECORD_FAILURES_KEPT + 50;
    try {
      for (let i = 0; i < rollouts; i++) {
        let recorded: () => void = () => {};
        const tried = new Promise<void>((resolve) => (recorded = resolve));
        const detach = gateway.attach({
          identity: { runId: 'run_full_disk' as RunId, rolloutId: `ro_${i}` as RolloutId, attempt: 1 },
          recorder: {
            modelCall: () => {
              recorded();
              throw new Error('database or disk is full');
            },
            event: () => {},
          },
        });
        assert.equal((await postJson(`${gatewayBaseUrl(gateway.url, `ro_${i}`)}/chat/completions`, ASK)).status, 200);
        // The record is written after the client has its answer.
        await tried;
        detach();
      }
      const stats = gateway.stats();
      assert.equal(stats.recordFailureCount, rollouts);
      assert.equal(stats.recordFailures.length, RECORD_FAILURES_KEPT);
      assert.match(stats.recordFailures[0]!, /call 0: database or disk is full/);
    } finally {
      await gateway.close();
    }
  });
});
