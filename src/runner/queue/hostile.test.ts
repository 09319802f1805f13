// The queue against faulty peers and a failing Redis: settings BullMQ would ignore or choke on, job
// and result data that is not JSON, and a Redis that answers but refuses writes. In every case the
// run ends and says why; it never waits forever and never stores a score it did not earn.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { InputError, rolloutIdFor, type Rollout, type RolloutId } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { bullQueue, endHeldRun, gateCatalog, gateRollout, gateRunConfig, redisWithRawClient, resultEnvelope, resultJobOptions, startRedis, unreadableResults, until, type RedisServer } from '../../../test/queue-support.ts';
import { FinishedRollouts } from './consumer.ts';
import { QUEUE_PREFIX, parseRedisUrl, resultQueueName, rolloutQueueName } from './connection.ts';
import { startQueuedRun, type CoordinatorEvent } from './coordinator.ts';
import { keepResult, KEPT_RESULTS_MAX, keptResults, keptResultsKey } from './kept.ts';
import { parseRateLimit } from './rate-limit.ts';
import { describeQueueStatus, queueStatus, queueStatusMetrics } from './status.ts';
import { FinishWindow } from './window.ts';
import { startWorker, type QueueWorker, type WorkerEvent } from './worker.ts';

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
        startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config: gateRunConfig(1), tasks: gate.tasks } }, queue: { redis, ...settings }, catalog: gate.catalog }),
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
  const local = redisWithRawClient();

  it('fails a rollout job whose stored data is not JSON at once, naming it, and ends the run saying so', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 3 });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(11), tasks: gate.tasks } }, queue: { redis: local.redis.target, checkMs: 200 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    const id = rolloutIdFor(run.run.id, 'gate/t1', 0);
    const key = `${QUEUE_PREFIX}:${rolloutQueueName('oracle')}:${id}`;
    // Cut the job's data short, as a truncated write or a hand edit would, before any worker sees it.
    const data = await local.raw.hget(key, 'data');
    assert.ok(data, `job ${id} holds data`);
    await local.raw.hset(key, 'data', data.slice(0, 40));
    const worker = await startWorker({ redis: local.redis.target, concurrency: 2, lockMs: 1000, catalog: gate.catalog });
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
      const status = await queueStatus({ redis: local.redis.target, listLimit: 10 });
      const endpoint = status.endpoints.find((e) => e.queue === rolloutQueueName('oracle'))!;
      assert.equal(endpoint.counts.failed, 1);
      assert.match(status.problems.join('\n'), /failed jobs cannot be listed: one's stored data is not JSON/);
      // Resuming meets the failed job, still unreadable, in its first check: it is reported at once,
      // not taken for Redis refusing commands and waited on for --max-outage.
      const resumed = await startQueuedRun({ store, run: { resume: run.run.id }, queue: { redis: local.redis.target, checkMs: 200, maxOutageMs: 60_000 }, catalog: gate.catalog });
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
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(12), tasks: gate.tasks } }, queue: { redis: local.redis.target, checkMs: 200 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    const results = await bullQueue(local.redis, resultQueueName(run.run.id));
    try {
      const rolloutId = rolloutIdFor(run.run.id, 'gate/t0', 0);
      // A result under the rollout's id whose data is corrupt: delayed while it is corrupted, then let go.
      const bogus = await results.add('result', { protocol: 1 }, resultJobOptions(rolloutId, 60_000));
      await local.raw.hset(`${QUEUE_PREFIX}:${resultQueueName(run.run.id)}:${rolloutId}`, 'data', '{"protocol":1,"rolloutId":"ro_');
      await bogus.promote();
      await until('the corrupt result reported', () => (events.some((e) => e.type === 'result_unreadable' && e.rolloutId === rolloutId) ? true : undefined), 20_000);
      assert.match((events.find((e) => e.type === 'result_unreadable') as { message: string }).message, /result job .* is not a result of queue protocol 1: its stored data is not JSON/);
      const worker: QueueWorker = await startWorker({ redis: local.redis.target, concurrency: 2, catalog: gate.catalog });
      try {
        const summary = await run.done;
        assert.equal(summary.status, 'finished');
        assert.equal(summary.scored, 2);
        assert.equal(store.rollouts(run.run.id).length, 2);
        // The corrupt one was kept aside meanwhile, and went with the run's results queue once everything was stored.
        assert.equal(summary.queue.unreadableResults, 1);
        assert.equal(await local.raw.exists(keptResultsKey(run.run.id)), 0);
      } finally {
        await worker.close({ force: true });
      }
    } finally {
      await results.close();
    }
  });
});

describe('results that cannot be decoded', () => {
  const local = redisWithRawClient();

  it('keeps their stored data byte for byte under a key of the run, reports and counts them, stores nothing for them, and --resume runs their rollouts again', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 3 });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(14), tasks: gate.tasks } }, queue: { redis: local.redis.target, checkMs: 200 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    const runId = run.run.id;
    const results = await bullQueue(local.redis, resultQueueName(runId));
    const rollouts = await bullQueue(local.redis, rolloutQueueName('oracle'));
    const [t0, t1] = [rolloutIdFor(runId, 'gate/t0', 0), rolloutIdFor(runId, 'gate/t1', 0)];
    // t0's result is not JSON (and not even UTF-8); t1's envelope is fine but its payload fails its checks.
    const notJson = Buffer.concat([Buffer.from('{"protocol":1,"rolloutId":"'), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    const badPayload = resultEnvelope(t1, { id: t1 }, 'w-broken');
    let workerStarted: QueueWorker | undefined;
    try {
      // Delayed while they are set up; their rollouts' own jobs go, so only these results speak for them.
      const first = await results.add('result', { protocol: 1 }, resultJobOptions(t0, 60_000));
      await local.raw.hset(`${QUEUE_PREFIX}:${resultQueueName(runId)}:${t0}`, 'data', notJson);
      const second = await results.add('result', badPayload, resultJobOptions(t1, 60_000));
      assert.equal(await rollouts.remove(t0), 1);
      assert.equal(await rollouts.remove(t1), 1);
      await first.promote();
      await second.promote();
      await until('both results reported', () => (unreadableResults(events).length === 2 ? true : undefined), 20_000);
      const failed = unreadableResults(events);
      const key = keptResultsKey(runId);
      assert.match(failed.find((e) => e.rolloutId === t0)!.message, new RegExp(`result job ${t0} is not a result of queue protocol 1: its stored data is not JSON.*kept in Redis \\(${key}, field data:\\d\\b.*--resume ${runId}`));
      assert.match(failed.find((e) => e.rolloutId === t1)!.message, new RegExp(`result job ${t1} from worker w-broken cannot be decoded: .*kept in Redis \\(${key}, field data:\\d\\b`, 's'));

      workerStarted = await startWorker({ redis: local.redis.target, concurrency: 2, catalog: gate.catalog });
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.equal(summary.scored, 1, 'only t2 counts as finished');
      assert.equal(summary.queue.unreadableResults, 2);
      assert.deepEqual(summary.queue.failedJobs.map((f) => f.rolloutId).sort(), [t0, t1].sort());
      assert.equal(store.getRollout(t0), null);
      assert.equal(store.getRollout(t1), null);

      // The bytes are those the result job held, whatever they were.
      const kept = await keptResults(local.raw, runId);
      assert.equal(kept.count, 2);
      const byRollout = new Map(kept.newest.map((k) => [k.rolloutId, k]));
      assert.deepEqual(await local.raw.hgetBuffer(key, `data:${byRollout.get(t0)!.entry}`), notJson);
      assert.equal(await local.raw.hget(key, `data:${byRollout.get(t1)!.entry}`), JSON.stringify(badPayload));
      assert.equal(byRollout.get(t1)!.worker, 'w-broken');

      // `queue status` shows the run for them (nothing waits, no coordinator) and says what to do.
      const status = await queueStatus({ redis: local.redis.target, listLimit: 10 });
      assert.equal(status.runs.some((r) => r.runId === runId), false, 'nothing waits for a coordinator');
      const shown = status.unreadableResults.find((u) => u.runId === runId);
      assert.ok(shown, 'the run is listed');
      assert.equal(shown.count, 2);
      assert.equal(shown.key, key);
      assert.deepEqual(shown.kept.map((k) => k.rolloutId).sort(), [t0, t1].sort());
      assert.match(status.problems.join('\n'), new RegExp(`run ${runId}: 2 results could not be decoded and were kept aside in ${key}; they count as not run`));
      assert.match(describeQueueStatus(status), new RegExp(`run ${runId}: 2 results could not be decoded, kept in ${key}\n.*data:\\d ${t1} from w-broken at .*cannot be decoded`, 's'));
      assert.match(queueStatusMetrics(status), new RegExp(`gauntlet_run_results_unreadable\\{run="${runId}"\\} 2`));

      // A resume runs both again; once everything is stored the copies go with the run's results queue.
      const resumed = await startQueuedRun({ store, run: { resume: runId }, queue: { redis: local.redis.target, checkMs: 200 }, catalog: gate.catalog });
      const again = await resumed.done;
      assert.equal(again.status, 'finished');
      assert.equal(store.getRollout(t0)?.status, 'scored');
      assert.equal(store.getRollout(t1)?.status, 'scored');
      assert.equal(await local.raw.exists(key), 0);
      assert.equal((await queueStatus({ redis: local.redis.target })).unreadableResults.some((u) => u.runId === runId), false);
    } finally {
      await workerStarted?.close({ force: true });
      await results.close();
      await rollouts.close();
    }
  });

  it('keeps a bounded number of copies per run, counting every one', async () => {
    const runId = 'run_bounded' as Rollout['runId'];
    const jobKey = `${QUEUE_PREFIX}:${resultQueueName(runId)}:ro_x`;
    await local.raw.hset(jobKey, 'data', 'not json');
    for (let i = 1; i <= KEPT_RESULTS_MAX + 3; i++) await keepResult(local.raw, runId, jobKey, { rolloutId: `ro_${i}`, worker: null, reason: 'why', at: 'now' });
    const kept = await keptResults(local.raw, runId);
    assert.equal(kept.count, KEPT_RESULTS_MAX + 3);
    assert.equal(kept.newest.length, KEPT_RESULTS_MAX);
    assert.equal(kept.newest[0]!.rolloutId, `ro_${KEPT_RESULTS_MAX + 3}`);
    assert.equal(await local.raw.hlen(keptResultsKey(runId)), 2 * KEPT_RESULTS_MAX + 1, 'count, and meta and data of each copy held');
    assert.equal(await local.raw.hget(keptResultsKey(runId), 'data:3'), null, 'the oldest are gone');
  });
});

describe('results that claim what their rollout cannot be', () => {
  const local = redisWithRawClient();

  it('keeps aside a score on an infra error, a record of another task, and a result for a rollout not in the run; stores the real results', { timeout: 60_000 }, async () => {
    // t2 gets no forged result and is held, so the run waits while the others are sent and stored.
    const gate = gateCatalog({ tasks: 3, held: ['t2'] });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const abort = new AbortController();
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(15), tasks: gate.tasks } }, queue: { redis: local.redis.target, checkMs: 200 }, catalog: gate.catalog, signal: abort.signal, onQueue: (e) => events.push(e) });
    const runId = run.run.id;
    const [t0, t1, stray] = [rolloutIdFor(runId, 'gate/t0', 0), rolloutIdFor(runId, 'gate/t1', 0), rolloutIdFor(runId, 'gate/t9', 0)];
    const record = (id: RolloutId, taskId: string, epoch = 0): Rollout => gateRollout({ id, runId, taskId, epoch });
    const forged: [RolloutId, Rollout][] = [
      // An infrastructure failure that says it passed, with a score and a reward.
      [t0, { ...record(t0, 'gate/t0'), status: 'infra_error', terminationReason: 'infra_error', error: { source: 'environment', message: 'down' }, score: 1, passed: true, reward: 1 }],
      // t1's id on a record of another task and epoch.
      [t1, record(t1, 'gate/t0', 7)],
      // A rollout id of this run's form whose task the run does not have.
      [stray, record(stray, 'gate/t9')],
    ];
    const results = await bullQueue(local.redis, resultQueueName(runId));
    let worker: QueueWorker | undefined;
    try {
      for (const [id, rollout] of forged) await results.add('result', resultEnvelope(id, rollout), resultJobOptions(id));
      await until('the three results reported', () => (unreadableResults(events).length === 3 ? true : undefined), 20_000);
      const said = new Map(unreadableResults(events).map((e) => [e.rolloutId, e.message]));
      assert.match(said.get(t0)!, /has status infra_error and score 1, passed true, reward 1/);
      assert.match(said.get(t1)!, /is of task gate\/t0 epoch 7 \(expected task gate\/t1 epoch 0\)/);
      assert.match(said.get(stray)!, new RegExp(`is for rollout ${stray}, which is not one of run ${runId}'s.*no rollout of this session waits for it`, 's'));
      assert.equal(events.some((e) => e.type === 'duplicate'), false, 'a stray result is no duplicate');

      // The workers' own results replace nothing kept aside: they are stored, once each.
      worker = await startWorker({ redis: local.redis.target, concurrency: 3, catalog: gate.catalog });
      await until('the real results of t0 and t1 stored', () => (store.getRollout(t0) && store.getRollout(t1) ? true : undefined), 20_000);
      gate.release();
      const summary = await run.done;
      assert.equal(summary.status, 'finished');
      assert.equal(summary.queue.unreadableResults, 3);
      assert.equal(summary.queue.duplicates, 0);
      const stored = store.rollouts(runId);
      assert.deepEqual(stored.map((r) => [r.id, r.taskId, r.epoch, r.status]).sort(), [[t0, 'gate/t0', 0, 'scored'], [t1, 'gate/t1', 0, 'scored'], [rolloutIdFor(runId, 'gate/t2', 0), 'gate/t2', 0, 'scored']].sort());
      assert.equal(store.getRollout(stray), null);
    } finally {
      // A failed assertion leaves the run waiting on t2: it is ended, not left holding the process.
      await endHeldRun(run, abort, gate);
      await worker?.close({ force: true });
      await results.close();
    }
  });
});

describe('a second coordinator for a run', () => {
  const local = redisWithRawClient();

  it('is refused while the first takes the run\'s results (a copy of the store elsewhere would split them), and resumes once the first is gone', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 1 });
    const store = openStore(':memory:');
    const first = new AbortController();
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(17), tasks: gate.tasks } }, queue: { redis: local.redis.target }, catalog: gate.catalog, signal: first.signal });
    const second = new AbortController();
    // In this process the store's lease lets it through, as a copy of the store on another machine would.
    const again = startQueuedRun({ store, run: { resume: run.run.id }, queue: { redis: local.redis.target }, catalog: gate.catalog, signal: second.signal });
    try {
      await assert.rejects(again, (e: unknown) => e instanceof InputError && e.where === 'run' && e.message.includes(`run ${run.run.id} already has a coordinator taking its results`));
    } finally {
      second.abort();
      await again.then((r) => r.done).catch(() => undefined);
      first.abort();
      assert.equal((await run.done).status, 'interrupted');
    }
    const worker = await startWorker({ redis: local.redis.target, concurrency: 1, catalog: gate.catalog });
    try {
      const resumed = await startQueuedRun({ store, run: { resume: run.run.id }, queue: { redis: local.redis.target }, catalog: gate.catalog });
      assert.equal((await resumed.done).status, 'finished');
    } finally {
      await worker.close({ force: true });
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
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(13), tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 100, maxOutageMs: 1500 }, catalog: gate.catalog });
      await gate.holding;
      // Out of memory with nothing to evict: every write from now on is refused. (A limit just above
      // the memory used let a small write through whenever usage dipped, a result among them.)
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
      await raw.config('SET', 'maxmemory', '1');
      await assert.rejects(raw.set('filler', 'x'.repeat(100_000)), /OOM/);
      gate.release();
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.match(summary.failure ?? '', /refused the run's commands .*OOM.*--resume/s);
      const stored: Rollout[] = store.rollouts(run.run.id);
      assert.ok(stored.every((r) => r.status === 'scored' && r.taskId !== 'gate/t0'), `only rollouts that ran and were delivered are stored; stored: ${JSON.stringify(stored.map((r) => [r.taskId, r.status, r.terminationReason, r.error?.message ?? null]))}`);
    } finally {
      await raw.config('SET', 'maxmemory', '0').catch(() => undefined);
      raw.disconnect();
      await worker.close({ force: true });
    }
  });

  it("has a worker hold a finished rollout's result while Redis is out of memory and send it once it can, never running the rollout again", { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 1, held: ['t0'] });
    const store = openStore(':memory:');
    const events: WorkerEvent[] = [];
    const worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, onEvent: (e) => events.push(e) });
    const raw = new Redis(redis.url);
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(16), tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 100, maxOutageMs: 60_000 }, catalog: gate.catalog });
      await gate.holding;
      await raw.config('SET', 'maxmemory-policy', 'noeviction');
      await raw.config('SET', 'maxmemory', '1');
      await assert.rejects(raw.set('filler', 'x'.repeat(100_000)), /OOM/);
      gate.release();
      // The rollout finished; its result is refused (before: its job failed, and was run again).
      const refused = await until('the refused result reported', () => events.find((e) => e.type === 'failed' || (e.type === 'error' && e.message.includes('result of'))));
      await raw.config('SET', 'maxmemory', '0');
      const summary = await run.done;
      assert.equal(summary.status, 'finished');
      assert.equal(summary.scored, 1);
      assert.equal(gate.starts.get('t0'), 1, 'the rollout ran once');
      assert.match(refused.type === 'error' ? refused.message : '', /sending the result of ro_\w+: Redis refuses it \(OOM .*the rollout is not run again/);
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
