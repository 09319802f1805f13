import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunConfig, type RunConfig as Config } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { gateCatalog, startRedis, type RedisServer } from '../../../test/queue-support.ts';
import { startQueuedRun, startWorker, type ExternalAgents } from './index.ts';

// A worker that plays episodes with external agents gives each driver back when its rollout is
// done, however it ended, so the CLI can close agent gateways no rollout holds (a worker runs for
// weeks; one gateway per agent and model ever seen would add up without end).

describe('a worker with external agents', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('releases every driver it took, once each, when its rollouts end', { timeout: 120_000 }, async () => {
    const rollouts = 12;
    const gate = gateCatalog({ tasks: rollouts });
    const taken: string[] = [];
    const released: string[] = [];
    const agents: ExternalAgents = {
      // The agent program fails at once: the rollout ends without a score, and its driver is still given back.
      driverFor: async (config: Config) => (taken.push(config.model), { name: 'agent:pi', drive: () => Promise.reject(new Error('the agent program crashed')) }),
      release: (config: Config) => void released.push(config.model),
    };
    const config = RunConfig.parse({ envs: ['gate'], model: 'openai:http://127.0.0.1:9/v1#policy', epochs: 1, concurrency: 4, seed: 3, maxAttempts: 1, agent: { name: 'pi', version: '0.73.1' } });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 4, catalog: gate.catalog, agents });
    try {
      const summary = await (await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, jobAttempts: 1 }, catalog: gate.catalog })).done;
      assert.equal(summary.rollouts, rollouts, JSON.stringify(summary.queue.failedJobs));
      assert.equal(summary.scored, 0);
    } finally {
      await worker.close();
      store.close();
    }
    assert.equal(taken.length, rollouts);
    assert.deepEqual(released, taken);
  });
});
