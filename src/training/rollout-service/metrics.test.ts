import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../runner/index.ts';
import { scrape } from '../../../test/support/prometheus.ts';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient } from './client.ts';
import { startRolloutService } from './service.ts';
import { sampledToolWalk, serviceOptions } from './test-support.ts';

describe('rollout service metrics', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: sampledToolWalk() });
  });
  after(() => engine.close());

  it('serves GET /metrics behind the service\'s token, counting the rollouts it stored', async () => {
    const options = serviceOptions(engine, { token: 'sesame', metrics: await createMetrics('service') });
    const service = await startRolloutService(options);
    try {
      const refused = await fetch(`${service.url}/metrics`);
      assert.equal(refused.status, 401);
      assert.doesNotMatch(await refused.text(), /gauntlet_rollouts/);
      const client = new RolloutServiceClient(service.url, { token: 'sesame' });
      const batch = await client.requestBatch({ groups: 2, policyVersion: 0 });
      for await (const line of client.stream(batch.id)) void line;
      const metrics = await scrape(`${service.url}/metrics`, { authorization: 'Bearer sesame' });
      assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
      const stored = options.store.rollouts(service.runId);
      assert.ok(stored.length >= 4, 'two groups of two at least');
      assert.equal(metrics.sum('gauntlet_rollouts_finished_total'), stored.length);
      assert.equal(metrics.sum('gauntlet_rollouts_passed_total'), stored.filter((r) => r.status === 'scored' && r.passed).length);
      assert.equal(metrics.sum('gauntlet_completion_tokens_total'), stored.reduce((n, r) => n + r.stats.completionTokens, 0));
      assert.ok(metrics.sum('gauntlet_completion_tokens_total') > 0, 'the engine reported tokens');
      assert.equal(metrics.sum('gauntlet_model_calls_total'), stored.reduce((n, r) => n + r.stats.modelCalls, 0));
    } finally {
      await service.close();
    }
  });
});
