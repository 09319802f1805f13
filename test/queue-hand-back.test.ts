// A worker that is being stopped (a spot machine reclaimed, a pod drained) hands its running
// rollouts back to the queue: other workers take them at once instead of after --stall-timeout,
// and the spend of the attempt it gave up stays counted. Nothing is stored twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunConfig } from '../src/core/index.ts';
import { selectTasks } from '../src/runner/index.ts';
import { rolloutQueueName, startQueuedRun, startWorker, type QueueWorker, type WorkerEvent } from '../src/runner/queue/index.ts';
import { openStore } from '../src/store/index.ts';
import { counterCatalog } from './support/counter-env.ts';
import { bullQueue, gateCatalog, gateRunConfig, spawnWorker, startRedis, stopWorker, until, type RedisServer } from './queue-support.ts';

/** Long enough that a job only a stall check could free would still be held when the test looks. */
const STALL_MS = 60_000;

describe('a worker stopped with its rollouts handed back', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('puts a running rollout back in the queue at once, with what it spent, and another worker finishes it', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 3, held: ['t1'] });
    const store = openStore(':memory:');
    const events: WorkerEvent[] = [];
    const a = await startWorker({ redis: redis.target, concurrency: 3, catalog: gate.catalog, lockMs: STALL_MS, spendSaveMs: STALL_MS, onEvent: (e) => events.push(e) });
    let b: QueueWorker | undefined;
    const rollouts = await bullQueue(redis, rolloutQueueName('oracle'));
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(11), tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
      await gate.holding;
      const held = events.find((e): e is Extract<WorkerEvent, { type: 'started' }> => e.type === 'started' && e.taskId === 'gate/t1')!.rolloutId;
      await until('the two other rollouts stored', () => (store.rollouts(run.run.id).length === 2 ? true : undefined));
      const closed = a.close({ handBack: true });
      await until('the held rollout handed back', () => (events.some((e) => e.type === 'handed_back' && e.rolloutId === held) ? true : undefined));
      // Back in the queue, not held until a stall check finds its claim expired (a minute here).
      await until('the job waiting', async () => ((await rollouts.getJobState(held)) === 'waiting' ? true : undefined), STALL_MS / 2);
      // Its spend was saved with the job although the periodic save (a minute) never came.
      const job = await rollouts.getJob(held);
      assert.deepEqual((job!.progress as { spent: unknown }).spent, { attempts: 1, modelCalls: 1, toolCalls: 1, promptTokens: 0, completionTokens: 0 });
      gate.release();
      await closed;
      assert.ok(!events.some((e) => e.type === 'failed'), 'a hand-back is not a failed try');
      b = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, lockMs: STALL_MS });
      const summary = await run.done;
      assert.equal(summary.passed, 3);
      assert.equal(summary.queue.duplicates, 0);
      const record = store.getRollout(held)!;
      assert.equal(record.attempt, 2, 'numbered after the attempt handed back');
      const own = store.modelCalls(held).length;
      const ownTools = store.events(held).filter((e) => e.type === 'tool_call').length;
      assert.deepEqual(record.spent, { attempts: 2, modelCalls: 1 + own, toolCalls: 1 + ownTools, promptTokens: 0, completionTokens: 0 });
    } finally {
      gate.release();
      await rollouts.close();
      await a.close({ force: true });
      await b?.close();
    }
  });

  it('lets a plain stop that is still waiting hand its rollouts back when asked again', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 1, held: ['t0'] });
    const store = openStore(':memory:');
    const events: WorkerEvent[] = [];
    const a = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, lockMs: STALL_MS, onEvent: (e) => events.push(e) });
    let b: QueueWorker | undefined;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(12), tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
      await gate.holding;
      let stopped = false;
      const graceful = a.close().then(() => (stopped = true));
      // A plain stop waits for the held rollout; asked to hand it back, both calls end.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(stopped, false);
      const handingBack = a.close({ handBack: true });
      await until('handed back', () => (events.some((e) => e.type === 'handed_back') ? true : undefined));
      gate.release();
      await Promise.all([graceful, handingBack]);
      b = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, lockMs: STALL_MS });
      const summary = await run.done;
      assert.equal(summary.passed, 1);
      assert.equal(store.rollouts(run.run.id)[0]!.attempt, 2);
    } finally {
      gate.release();
      await a.close({ force: true });
      await b?.close();
    }
  });
});

describe('a hand-back while Redis is down', () => {
  it('ends within its bounds, the job left to stall and be taken over once Redis is back', { timeout: 120_000 }, async () => {
    const redis = await startRedis({ persist: true });
    const gate = gateCatalog({ tasks: 1, held: ['t0'] });
    const store = openStore(':memory:');
    const events: WorkerEvent[] = [];
    const a = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, lockMs: 2000, graceMs: 500, onEvent: (e) => events.push(e) });
    let b: QueueWorker | undefined;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(14), tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
      await gate.holding;
      await redis.stop();
      const startedAt = Date.now();
      gate.release();
      // Saving the spend and moving the job wait on Redis: each is given up after 5 s.
      await a.close({ handBack: true });
      const tookMs = Date.now() - startedAt;
      assert.ok(tookMs < 40_000, `closed after ${tookMs} ms`);
      assert.ok(!events.some((e) => e.type === 'handed_back'), 'nothing handed back without Redis');
      await redis.restart();
      b = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, lockMs: 2000 });
      const summary = await run.done;
      assert.equal(summary.passed, 1);
      assert.equal(store.rollouts(run.run.id).length, 1);
    } finally {
      gate.release();
      await a.close({ force: true });
      await b?.close();
      await redis.stop();
    }
  });
});

describe('gauntlet worker stopping', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  for (const how of ['--stop-grace 0', 'a second SIGTERM'] as const) {
    it(`hands its running rollout back to the queue on ${how}`, { timeout: 90_000 }, async () => {
      const config = RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'oracle', epochs: 1, concurrency: 1, seed: 13, deadlineMs: 120_000 });
      const store = openStore(':memory:');
      const a = spawnWorker({ url: redis.url, concurrency: 1, stallTimeoutS: STALL_MS / 1000, env: { GAUNTLET_TEST_BLOCK_AT_CALL: '1' }, args: how === '--stop-grace 0' ? ['--stop-grace', '0'] : [] });
      let b: QueueWorker | undefined;
      const rollouts = await bullQueue(redis, rolloutQueueName('oracle'));
      try {
        const run = await startQueuedRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, queue: { redis: redis.target }, catalog: counterCatalog });
        await until('worker A blocked mid-rollout', () => (a.lines.some((l) => l.includes('test: blocked at')) ? true : undefined));
        a.child.kill('SIGTERM');
        if (how === 'a second SIGTERM') {
          await until('A stopping', () => (a.lines.some((l) => l.includes('signal again to hand them back')) ? true : undefined));
          a.child.kill('SIGTERM');
        }
        const line = await until('A handed the rollout back', () => a.lines.find((l) => l.includes('"handed_back"')));
        const { rolloutId } = JSON.parse(line) as { rolloutId: string };
        await until('the job waiting', async () => ((await rollouts.getJobState(rolloutId)) === 'waiting' ? true : undefined), STALL_MS / 2);
        b = await startWorker({ redis: redis.target, concurrency: 1, catalog: counterCatalog, lockMs: STALL_MS });
        const summary = await run.done;
        assert.equal(summary.passed, 1);
        assert.equal(store.getRollout(rolloutId)!.attempt, 2);
      } finally {
        await rollouts.close();
        await stopWorker(a, 'SIGKILL');
        await b?.close();
      }
    });
  }
});
