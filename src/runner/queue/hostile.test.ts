// The queue against faulty peers and a failing Redis: settings BullMQ would ignore or choke on, job
// and result data that is not JSON, and a Redis that answers but refuses writes. In every case the
// run ends and says why; it never waits forever and never stores a score it did not earn.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { InputError, rolloutIdFor, RunConfig, type Rollout } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { gateCatalog, startRedis, until, type RedisServer } from '../../../test/queue-support.ts';
import { FinishedRollouts } from './consumer.ts';
import { QUEUE_PREFIX, parseRedisUrl, redisOptions, resultQueueName, rolloutQueueName } from './connection.ts';
import { startQueuedRun, type CoordinatorEvent } from './coordinator.ts';
import { parseRateLimit } from './rate-limit.ts';
import { queueStatus } from './status.ts';
import { FinishWindow } from './window.ts';
import { startWorker, type QueueWorker } from './worker.ts';

const config = (seed: number) => RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed });


describe('queue settings out of range', () => {
  it('refuses rate limits BullMQ would ignore (0, negative, fractional) or choke on (huge), and intervals that spin, before reaching Redis', async () => {
    // Nothing listens here: a setting that got past the check would fail on the connection instead.
    const redis = parseRedisUrl('redis://127.0.0.1:1');
    const gate = gateCatalog({ tasks: 1 });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ rateLimit: { max: 0, durationMs: 1000 } }, /rateLimit\.max/],
      [{ rateLimit: { max: -1, durationMs: 1000 } }, /rateLimit\.max/],
      [{ rateLimit: { max: 1.5, durationMs: 1000 } }, /rateLimit\.max/],
      [{ rateLimit: { max: 1, durationMs: 1e20 } }, /rateLimit\.durationMs/],
      [{ rateLimit: { max: 1, durationMs: 0 } }, /rateLimit\.durationMs/],
      [{ checkMs: 0 }, /checkMs/],
      [{ maxOutageMs: Number.NaN }, /maxOutageMs/],
      [{ jobAttempts: 0 }, /jobAttempts/],
    ];
    for (const [settings, field] of bad) {
      await assert.rejects(
        startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config: config(1), tasks: gate.tasks } }, queue: { redis, ...settings }, catalog: gate.catalog }),
        (e: unknown) => e instanceof InputError && e.where === 'queue settings' && field.test(e.message),
        JSON.stringify(settings),
      );
    }
  });

  it('refuses a --rate-limit whose count or window is too large for Redis, naming the flag', () => {
    for (const text of ['99999999999999999999/min', '1/100000000000000h', '1/2000h']) {
      assert.throws(() => parseRateLimit(text), (e: unknown) => e instanceof InputError && e.where === '--rate-limit', text);
    }
    assert.deepEqual(parseRateLimit('1000/24h'), { max: 1000, durationMs: 86_400_000 });
  });
});

// Each run below ends by a condition (its summary); a run that hung instead fails its test at the test's time-out.
describe('job and result data that is not JSON', () => {
  let redis: RedisServer;
  let raw: Redis;
  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  after(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it('fails a rollout job whose stored data is not JSON at once, naming it, and ends the run saying so', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 3 });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config: config(11), tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 200 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    const id = rolloutIdFor(run.run.id, 'gate/t1', 0);
    const key = `${QUEUE_PREFIX}:${rolloutQueueName('oracle')}:${id}`;
    // Cut the job's data short, as a truncated write or a hand edit would, before any worker sees it.
    const data = await raw.hget(key, 'data');
    assert.ok(data, `job ${id} holds data`);
    await raw.hset(key, 'data', data.slice(0, 40));
    const worker = await startWorker({ redis: redis.target, concurrency: 2, lockMs: 1000, catalog: gate.catalog });
    try {
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.equal(summary.scored, 2);
      assert.equal(summary.queue.failedJobs.length, 1);
      assert.equal(summary.queue.failedJobs[0]!.rolloutId, id);
      assert.match(summary.queue.failedJobs[0]!.message, new RegExp(`job ${id} is not a rollout job .*stored data is not JSON`));
      assert.equal(store.getRollout(id), null, 'nothing is stored for it');
      assert.ok(events.some((e) => e.type === 'job_failed' && e.rolloutId === id));
      // The queue's status still reads: the job is counted as failed, and why it is not listed is a problem.
      const status = await queueStatus({ redis: redis.target, listLimit: 10 });
      const endpoint = status.endpoints.find((e) => e.queue === rolloutQueueName('oracle'))!;
      assert.equal(endpoint.counts.failed, 1);
      assert.match(status.problems.join('\n'), /failed jobs cannot be listed: one's stored data is not JSON/);
      // Resuming meets the failed job, still unreadable, in its first check: it is reported at once,
      // not taken for Redis refusing commands and waited on for --max-outage.
      const resumed = await startQueuedRun({ store, run: { resume: run.run.id }, queue: { redis: redis.target, checkMs: 200, maxOutageMs: 60_000 }, catalog: gate.catalog });
      const again = await resumed.done;
      assert.equal(again.status, 'interrupted');
      assert.equal(again.queue.failedJobs.length, 1);
      assert.match(again.queue.failedJobs[0]!.message, /stored data is not JSON/);
    } finally {
      await worker.close({ force: true });
    }
  });

  it("reports a result whose stored data is not JSON, naming it, and stores the worker's real result once", { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2 });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config: config(12), tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 200 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    const { Queue } = await import('bullmq');
    const results = new Queue(resultQueueName(run.run.id), { connection: redisOptions(redis.target), prefix: QUEUE_PREFIX });
    try {
      const rolloutId = rolloutIdFor(run.run.id, 'gate/t0', 0);
      // A result under the rollout's id whose data is corrupt: delayed while it is corrupted, then let go.
      const bogus = await results.add('result', { protocol: 1 }, { jobId: rolloutId, delay: 60_000, removeOnComplete: true, removeOnFail: false, attempts: 1 });
      await raw.hset(`${QUEUE_PREFIX}:${resultQueueName(run.run.id)}:${rolloutId}`, 'data', '{"protocol":1,"rolloutId":"ro_');
      await bogus.promote();
      await until('the corrupt result reported', () => (events.some((e) => e.type === 'job_failed' && e.rolloutId === rolloutId) ? true : undefined), 20_000);
      assert.match((events.find((e) => e.type === 'job_failed') as { message: string }).message, /result job .* is not a result of queue protocol 1: its stored data is not JSON/);
      const worker: QueueWorker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
      try {
        const summary = await run.done;
        assert.equal(summary.status, 'finished');
        assert.equal(summary.scored, 2);
        assert.equal(store.rollouts(run.run.id).length, 2);
      } finally {
        await worker.close({ force: true });
      }
    } finally {
      await results.close();
    }
  });
});

describe('a Redis that answers but refuses writes', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('ends the run as interrupted, naming the refusal (out of memory), instead of waiting forever, and scores nothing it did not run', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 6, held: ['t0'] });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 1, lockMs: 1000, catalog: gate.catalog });
    const raw = new Redis(redis.url);
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: config(13), tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 100, maxOutageMs: 1500 }, catalog: gate.catalog });
      await gate.holding;
      // Out of memory with nothing to evict: every write from now on is refused.
      const used = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]);
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
      await raw.config('SET', 'maxmemory', String(used + 1000));
      await assert.rejects(raw.set('filler', 'x'.repeat(100_000)), /OOM/);
      gate.release();
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.match(summary.failure ?? '', /refused the run's commands .*OOM.*--resume/s);
      const stored: Rollout[] = store.rollouts(run.run.id);
      assert.ok(stored.every((r) => r.status === 'scored' && r.taskId !== 'gate/t0'), 'only rollouts that ran and were delivered are stored');
    } finally {
      await raw.config('SET', 'maxmemory', '0').catch(() => undefined);
      raw.disconnect();
      await worker.close({ force: true });
    }
  });
});

describe('a training consumer waiting long', () => {
  it('keeps one abort listener on its signal however many rollouts finish while it waits, and none after', async () => {
    const window = new FinishWindow({ size: 200, now: () => 0 });
    const consumer = new FinishedRollouts({ window, store: { getRollout: () => null }, rolloutIdAt: (p) => `ro_${p}` });
    const signal = new AbortController().signal;
    const take = consumer.take({ batch: 200, window: 200 }, { signal });
    for (let p = 0; p < 199; p++) {
      window.finish(p);
      consumer.notify();
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(getEventListeners(signal, 'abort').length <= 1, `${getEventListeners(signal, 'abort').length} listeners after 199 finishes`);
    window.finish(199);
    consumer.notify();
    assert.equal((await take).positions.length, 200);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });
});
