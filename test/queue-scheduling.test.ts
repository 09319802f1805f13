// Scheduling through the queue: a rate limit per model endpoint holds across workers, and a
// training consumer takes finished rollouts through a window over the enqueued order, never
// letting a rollout be overtaken by W or more others.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { RunConfig } from '../src/core/index.ts';
import { rolloutQueueName, startQueuedRun, startWorker, type CoordinatorEvent, type QueueWorker } from '../src/runner/queue/index.ts';
import { FinishWindow, windowOf } from '../src/runner/queue/window.ts';
import { openStore } from '../src/store/index.ts';
import { gateCatalog, startRedis, until, type RedisServer } from './queue-support.ts';

describe('the finish window', () => {
  it('never lets a rollout be overtaken by W or more later ones, and hands out each exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((size) => fc.tuple(fc.constant(size), fc.shuffledSubarray([...Array(size).keys()], { minLength: size, maxLength: size }))),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 12 }),
        ([size, order], batch, window) => {
          const w = new FinishWindow({ size, now: () => 0 });
          const takenAt = new Map<number, number>();
          let step = 0;
          const takeAll = () => {
            for (;;) {
              const plan = w.plan(batch, window);
              if (plan.length === 0) return;
              for (const t of w.take(plan, { batch, window })) takenAt.set(t.position, step++);
            }
          };
          for (const position of order) {
            w.finish(position);
            takeAll();
          }
          assert.equal(takenAt.size, size);
          for (const [p, at] of takenAt) {
            const overtaking = [...takenAt].filter(([q, qAt]) => q > p && qAt < at).length;
            assert.ok(overtaking <= window - 1, `position ${p} overtaken by ${overtaking} with W=${window}`);
          }
          assert.ok(w.report().maxOvertaken <= window - 1);
        },
      ),
    );
  });

  it('takes in enqueue order with a window of 1, and any finished one with a window as large as the run', () => {
    const strict = new FinishWindow({ size: 3, now: () => 0 });
    strict.finish(2);
    strict.finish(1);
    assert.deepEqual(strict.plan(3, 1), []);
    strict.finish(0);
    assert.deepEqual(strict.plan(3, 1), [0, 1, 2]);
    const loose = new FinishWindow({ size: 3, now: () => 0 });
    loose.finish(2);
    assert.deepEqual(loose.plan(3, 3), [2]);
  });

  it('moves past a rollout that will never finish', () => {
    const w = new FinishWindow({ size: 3, now: () => 0 });
    w.finish(2);
    assert.deepEqual(w.plan(1, 2), []);
    w.abandon(0);
    assert.deepEqual(w.plan(1, 2), [2]);
  });

  it('reads the window as positions or as a fraction of the batch, and rejects anything else', () => {
    assert.deepEqual(windowOf({ batch: 8, window: 3 }), { batch: 8, window: 3 });
    assert.deepEqual(windowOf({ batch: 8, windowFraction: 0.25 }), { batch: 8, window: 2 });
    assert.deepEqual(windowOf({ batch: 2, windowFraction: 0.1 }), { batch: 2, window: 1 });
    assert.throws(() => windowOf({ batch: 8 }), /takeFinished.*exactly one of window/s);
    assert.throws(() => windowOf({ batch: 0, window: 2 }), /takeFinished.*batch/s);
  });
});

describe('scheduling through Redis', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('holds the endpoint\'s rate limit across workers', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 6 });
    const starts: number[] = [];
    const onEvent = (e: { type: string }) => void (e.type === 'started' && starts.push(Date.now()));
    const workers: QueueWorker[] = await Promise.all([1, 2].map(() => startWorker({ redis: redis.target, concurrency: 4, catalog: gate.catalog, onEvent })));
    try {
      const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 2 });
      const events: CoordinatorEvent[] = [];
      const run = await startQueuedRun({
        store: openStore(':memory:'),
        run: { resolved: { config, tasks: gate.tasks } },
        queue: { redis: redis.target, rateLimit: { max: 2, durationMs: 400 } },
        catalog: gate.catalog,
        onQueue: (e) => events.push(e),
      });
      const summary = await run.done;
      assert.equal(summary.scored, 6);
      assert.deepEqual(events.find((e) => e.type === 'enqueued'), { type: 'enqueued', count: 6, alreadyQueued: 0, queue: rolloutQueueName('oracle'), endpoint: 'oracle', rateLimit: { max: 2, durationMs: 400 } });
      starts.sort((a, b) => a - b);
      assert.equal(starts.length, 6);
      // Two rollouts per 400 ms window, eight slots free: six starts need three windows.
      assert.ok(starts[5]! - starts[0]! >= 2 * 400 - 100, `six starts within ${starts[5]! - starts[0]!} ms`);
      for (let i = 0; i + 2 < starts.length; i += 2) assert.ok(starts[i + 2]! - starts[i]! >= 400 - 100, `starts ${i} and ${i + 2} are ${starts[i + 2]! - starts[i]!} ms apart`);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('hands a training consumer finished rollouts from the first W positions while a slow one runs, then waits for it', { timeout: 60_000 }, async () => {
    // t0 (position 0) is held; the others finish.
    const gate = gateCatalog({ tasks: 8, held: ['t0'] });
    const worker = await startWorker({ redis: redis.target, concurrency: 3, catalog: gate.catalog });
    try {
      const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 4 });
      const store = openStore(':memory:');
      // The limit set above belongs to the endpoint (same model); this run lifts it.
      const run = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, rateLimit: null }, catalog: gate.catalog });
      const first = await run.takeFinished({ batch: 2, window: 4 });
      assert.equal(first.rollouts.length, 2);
      assert.ok(first.positions.every((p) => p >= 1 && p <= 3), `took ${first.positions}`);
      assert.deepEqual(first.rollouts.map((r) => r.taskId), first.positions.map((p) => `gate/t${p}`));
      const second = await run.takeFinished({ batch: 1, window: 4 });
      assert.equal(second.positions.length, 1);
      assert.ok(second.positions[0]! <= 3);
      // Positions 1-3 are taken and 0 still runs: 4-7 lie outside the window, so the next take waits.
      await until('every other rollout stored', () => (store.rollouts(run.run.id).length === 7 ? true : undefined));
      let third: Awaited<ReturnType<typeof run.takeFinished>> | undefined;
      const pending = run.takeFinished({ batch: 5, window: 4 }).then((t) => (third = t));
      await new Promise((r) => setImmediate(r));
      assert.equal(third, undefined, 'the take waits for the slow rollout');
      gate.release();
      await pending;
      assert.deepEqual(third!.positions, [0, 4, 5, 6, 7]);
      assert.equal(third!.rollouts[0]!.taskId, 'gate/t0');
      assert.equal(third!.staleness.maxOvertaken, 3, 'the slow rollout was overtaken by W - 1 = 3');
      assert.equal(third!.staleness.maxOvertakenBound, 3);
      assert.equal(third!.staleness.maxBatchLagBound, 1);
      assert.ok(third!.staleness.maxWaitMs >= 0 && third!.staleness.maxAgeMs >= third!.staleness.maxWaitMs);
      const summary = await run.done;
      assert.equal(summary.status, 'finished');
      const last = await run.takeFinished({ batch: 3, window: 1 });
      assert.deepEqual(last, { rollouts: [], positions: [], ended: true, staleness: last.staleness });
    } finally {
      await worker.close({ force: true });
    }
  });
});
