import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { alphaWithInterval } from './agreement.ts';
import { recordVerdict } from './labels.ts';
import { ReviewStatsBusy, ReviewStatsService, type AlphaCompute } from './stats-service.ts';
import { labelledStore } from './stats-support.ts';
import { reviewStats } from './stats.ts';

/** Waits for a condition reached by other work, a turn of the event loop at a time (no clock involved). */
async function turnsUntil(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 10_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`${what}: not reached in 10,000 turns of the event loop`);
}

/** Bootstraps computed here, each call held until released; counts calls. */
function heldCompute() {
  const held: (() => void)[] = [];
  let calls = 0;
  const compute: AlphaCompute = async (jobs) => {
    calls++;
    await new Promise<void>((resolve) => held.push(resolve));
    return jobs.map((job) => alphaWithInterval(job.units, job.options));
  };
  return {
    compute,
    release: () => held.splice(0).forEach((go) => go()),
    get calls() {
      return calls;
    },
    get held() {
      return held.length;
    },
  };
}

describe('ReviewStatsService', () => {
  const services: ReviewStatsService[] = [];
  const service = (options: ConstructorParameters<typeof ReviewStatsService>[0]) => {
    const created = new ReviewStatsService(options);
    services.push(created);
    return created;
  };
  after(() => Promise.all(services.map((s) => s.close())));

  it('runs the bootstraps in a worker thread and gets the same bits as running them here', async () => {
    const { store, runId } = labelledStore();
    const threaded = service({ inlineDraws: 0 });
    for (const [resamples, seed] of [[2_000, 0], [20_000, 9]] as const) {
      const answer = threaded.stats({ store, runId, resamples, seed });
      await turnsUntil(() => threaded.running === 1, 'the bootstrap handed to a thread');
      assert.deepEqual(await answer, reviewStats({ store, runId, resamples, seed }));
      assert.equal(threaded.running, 0);
    }
  });

  it('computes identical concurrent requests once, answers a repeat from its cache, and computes again once a label changes the units', async () => {
    const { store, runId, rollouts, ctx } = labelledStore();
    const held = heldCompute();
    const stats = service({ compute: held.compute, inlineDraws: 0 });
    const [first, second] = [stats.stats({ store, runId, resamples: 500 }), stats.stats({ store, runId, resamples: 500 })];
    await turnsUntil(() => held.held === 1, 'the first computation started');
    held.release();
    const expected = reviewStats({ store, runId, resamples: 500 });
    assert.deepEqual(await first, expected);
    assert.deepEqual(await second, expected);
    assert.equal(held.calls, 1, 'one computation for two identical requests');
    assert.deepEqual(await stats.stats({ store, runId, resamples: 500 }), expected);
    assert.equal(held.calls, 1, 'a repeat comes from the cache');
    // Another resample count is another question.
    const other = stats.stats({ store, runId, resamples: 600 });
    await turnsUntil(() => held.held === 1, 'the second computation started');
    held.release();
    await other;
    assert.equal(held.calls, 2);
    // A changed verdict changes the units: computed again, with the new label in it.
    recordVerdict(ctx, { rolloutId: rollouts[1]!.id, verdict: 'unsafe', reviewer: 'ana' });
    const changed = stats.stats({ store, runId, resamples: 500 });
    await turnsUntil(() => held.held === 1, 'the computation after a new label started');
    held.release();
    const after = await changed;
    assert.equal(held.calls, 3);
    assert.deepEqual(after, reviewStats({ store, runId, resamples: 500 }));
    assert.notDeepEqual(after.verdicts.alpha, expected.verdicts.alpha);
  });

  it('keeps as many answers as it was told, dropping the one used longest ago', async () => {
    const { store, runId } = labelledStore();
    let calls = 0;
    const stats = service({ inlineDraws: 0, cacheEntries: 2, compute: async (jobs) => (calls++, jobs.map((job) => alphaWithInterval(job.units, job.options))) });
    for (const resamples of [100, 101, 100, 102, 100, 101]) await stats.stats({ store, runId, resamples });
    // 100, 101 computed; 100 cached (now the newest); 102 computed, dropping 101; 100 cached; 101 computed again.
    assert.equal(calls, 4);
  });

  it('runs a bounded number at once, queues a few more and refuses the next with a retry time', async () => {
    const { store, runId } = labelledStore();
    const held = heldCompute();
    const stats = service({ compute: held.compute, inlineDraws: 0, threads: 1, maxWaiting: 1 });
    const running = stats.stats({ store, runId, resamples: 1_000 });
    await turnsUntil(() => stats.running === 1, 'one computing');
    const waiting = stats.stats({ store, runId, resamples: 1_001 });
    await turnsUntil(() => stats.waiting === 1, 'one waiting');
    const refused = await stats.stats({ store, runId, resamples: 1_002 }).then(
      () => assert.fail('a third heavy request was accepted'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ReviewStatsBusy);
    assert.match(refused.message, /as many heavy requests as allowed are under way \(1 computing, 1 waiting\)/);
    assert.ok(Number.isInteger(refused.retryAfterSeconds) && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    assert.equal(held.calls, 1, 'the waiting one has not started');
    held.release();
    await running;
    await turnsUntil(() => held.held === 1, 'the waiting one started when the thread was free');
    held.release();
    assert.deepEqual(await waiting, reviewStats({ store, runId, resamples: 1_001 }));
    // A light request never waits for a thread.
    const light = service({ compute: held.compute, inlineDraws: 1_000_000 });
    assert.deepEqual(await light.stats({ store, runId, resamples: 10 }), reviewStats({ store, runId, resamples: 10 }));
    assert.equal(held.calls, 2);
  });

  it('reports a failed computation as the failure it is, and caches nothing from it', async () => {
    const { store, runId } = labelledStore();
    let calls = 0;
    const stats = service({
      inlineDraws: 0,
      compute: async (jobs) => {
        if (calls++ === 0) throw new Error('review stats: the statistics thread exited (code 1) before answering');
        return jobs.map((job) => alphaWithInterval(job.units, job.options));
      },
    });
    await assert.rejects(stats.stats({ store, runId, resamples: 100 }), /statistics thread exited \(code 1\)/);
    assert.deepEqual(await stats.stats({ store, runId, resamples: 100 }), reviewStats({ store, runId, resamples: 100 }));
    assert.equal(calls, 2);
  });

  it('refuses settings it cannot honour instead of quietly using others', () => {
    assert.throws(() => new ReviewStatsService({ threads: 0 }), /threads is 0 \(expected a whole number, 1 or more\)/);
    assert.throws(() => new ReviewStatsService({ maxWaiting: -1 }), /maxWaiting is -1 \(expected a whole number, 0 or more\)/);
    assert.throws(() => new ReviewStatsService({ cacheEntries: 1.5 }), /cacheEntries is 1.5/);
  });

  it('fails the requests still waiting when it closes, saying why', async () => {
    const { store, runId } = labelledStore();
    const held = heldCompute();
    const stats = new ReviewStatsService({ compute: held.compute, inlineDraws: 0, threads: 1 });
    const running = stats.stats({ store, runId, resamples: 100 });
    await turnsUntil(() => stats.running === 1, 'one computing');
    const waiting = stats.stats({ store, runId, resamples: 101 });
    await turnsUntil(() => stats.waiting === 1, 'one waiting');
    await stats.close();
    await assert.rejects(waiting, /the server closed before this request got a thread/);
    held.release();
    await running;
    await assert.rejects(stats.stats({ store, runId, resamples: 102 }), /the service is closed/);
  });
});
