// A queued run's metrics: the worker counts what it ran and sent, the coordinator what it stored,
// both from each rollout's own record, so the two agree with each other and with the run's summary.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getEnvironment } from '../src/envs/index.ts';
import { createMetrics, resolveRun } from '../src/runner/index.ts';
import { executeQueuedRun, startWorker, type QueueWorker } from '../src/runner/queue/index.ts';
import { openStore } from '../src/store/index.ts';
import { startRedis, type RedisServer } from './queue-support.ts';
import { scraped } from './support/prometheus.ts';

describe('metrics of a queued run and its worker', () => {
  let redis: RedisServer;
  let worker: QueueWorker;
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-metrics-'));
  const workerMetrics = createMetrics('worker');
  before(async () => {
    redis = await startRedis();
    const metrics = await workerMetrics;
    worker = await startWorker({ redis: redis.target, concurrency: 2, onRollout: metrics.onRollout, onEvent: metrics.onWorkerEvent });
  });
  after(async () => {
    await worker?.close();
    await redis?.stop();
  });

  it('counts every rollout once on each side, an infra error as an infra error', { timeout: 120_000 }, async () => {
    const coordinator = await createMetrics('run');
    const store = openStore(join(dir, 'runs.db'));
    try {
      const taskIds = getEnvironment('mail').tasks().slice(0, 2).map((t) => t.id);
      const passing = await resolveRun({ envs: ['mail'], taskIds, model: 'oracle', epochs: 2, concurrency: 2, seed: 3 });
      // Nothing listens on port 9: the simulated user's endpoint fails, an infra error of the user simulator.
      const broken = await resolveRun({ envs: ['mail'], taskIds: ['mail/ask-reply-choice-catering'], model: 'oracle', user: 'openai:http://127.0.0.1:9/v1#user-model', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 });
      const summaries = [];
      for (const resolved of [passing, broken]) {
        summaries.push(await executeQueuedRun({ store, run: { resolved }, queue: { redis: redis.target }, onRollout: coordinator.onRollout, onProgress: coordinator.onProgress }));
      }
      const [first, second] = summaries as [(typeof summaries)[number], (typeof summaries)[number]];
      assert.deepEqual([first.passed, first.rollouts, second.infraErrors], [4, 4, 1]);

      const stored = scraped((await coordinator.scrape()).body);
      const ran = scraped((await (await workerMetrics).scrape()).body);
      const rollouts = [...store.rollouts(first.runId), ...store.rollouts(second.runId)];
      for (const side of [stored, ran]) {
        assert.deepEqual(side.by('gauntlet_rollouts_finished_total', 'status'), { scored: 4, infra_error: 1 });
        assert.equal(side.sum('gauntlet_rollouts_passed_total', { env: 'mail' }), 4);
        assert.deepEqual(side.by('gauntlet_infra_errors_total', 'source'), { user_simulator: 1 });
        // Calls count every attempt's, the infra error's included: each record's `spent`, sent by the worker with it.
        assert.equal(side.sum('gauntlet_model_calls_total'), rollouts.reduce((n, r) => n + r.spent!.modelCalls, 0));
        assert.equal(side.sum('gauntlet_tool_calls_total'), rollouts.reduce((n, r) => n + r.spent!.toolCalls, 0));
        assert.equal(side.sum('gauntlet_rollouts_in_flight'), 0);
      }
      assert.ok(rollouts.reduce((n, r) => n + r.stats.toolCalls, 0) > 0, 'the oracle called tools');
      const failed = rollouts.find((r) => r.status === 'infra_error')!;
      assert.equal(failed.stats.modelCalls, 0);
      assert.ok(failed.spent!.modelCalls > 0, 'the calls the infra error\'s attempt made before the user simulator failed are counted');
      for (const r of rollouts.filter((r) => r.status === 'scored')) assert.equal(r.spent!.modelCalls, r.stats.modelCalls, 'one attempt each: spent is its stats');
      assert.equal(ran.sum('gauntlet_worker_rollouts_claimed_total'), 5);
      assert.equal(ran.sum('gauntlet_worker_rollouts_completed_total'), 5);
      assert.deepEqual([stored.sum('gauntlet_run_rollouts_expected'), stored.sum('gauntlet_run_rollouts_done')], [1, 1], 'the gauges follow the latest run');
    } finally {
      store.close();
    }
  });
});
