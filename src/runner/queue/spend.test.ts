import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunConfig, rolloutIdFor } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { functionModel } from '../../../test/support/models.ts';
import { gateCatalog, startRedis, type RedisServer } from '../../../test/queue-support.ts';
import { executeRun } from '../run.ts';
import { startQueuedRun, startWorker } from './index.ts';

describe('a queued rollout resumed after attempts of an earlier process', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('has the worker\'s record count them, from what the coordinator\'s store holds', { timeout: 120_000 }, async () => {
    const gate = gateCatalog({ tasks: 1 });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 8, maxAttempts: 2 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog });
    try {
      // The first process's endpoint was down: two failed calls, stored as an infra error.
      const down = functionModel('test:down', () => ({ ok: false, kind: 'connection', message: 'connection refused', retryable: true }));
      const first = await executeRun({ store, model: down, catalog: gate.catalog, sleep: async () => {}, run: { resolved: { config, tasks: gate.tasks } } });
      assert.equal(first.infraErrors, 1);
      const rolloutId = rolloutIdFor(first.runId, gate.tasks[0]!.id, 0);
      const retried = await (await startQueuedRun({ store, run: { resume: first.runId, retryInfraErrors: true }, queue: { redis: redis.target }, catalog: gate.catalog })).done;
      assert.equal(retried.scored, 1, retried.failure);
      const rollout = store.getRollout(rolloutId)!;
      assert.equal(rollout.attempt, 3);
      const own = store.modelCalls(rolloutId).filter((c) => c.attempt === 3);
      const ownTools = store.events(rolloutId).filter((e) => e.attempt === 3 && e.type === 'tool_call').length;
      assert.ok(own.length > 0 && ownTools > 0);
      const spent = {
        attempts: 3,
        modelCalls: 2 + own.length,
        toolCalls: ownTools,
        promptTokens: own.reduce((n, c) => n + (c.response?.usage.promptTokens ?? 0), 0),
        completionTokens: own.reduce((n, c) => n + (c.response?.usage.completionTokens ?? 0), 0),
      };
      assert.deepEqual(rollout.spent, spent);
      assert.deepEqual(retried.spent, spent);
      assert.deepEqual(store.runSpend(first.runId), spent);
    } finally {
      await worker.close();
      store.close();
    }
  });
});
