// The in-process runner against an unlucky run: environments that reset slowly or hang through a
// cancel, a model endpoint that stays down while the run is interrupted, deadlines at their limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_MS, rolloutIdFor, RunConfig } from '../core/index.ts';
import { defineEnvironment } from '../envs/index.ts';
import { openStore } from '../store/index.ts';
import { counterCatalog, counterEnv } from '../../test/support/counter-env.ts';
import { assistant, functionModel, goldenModel, reply } from '../../test/support/models.ts';
import { selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const config = (over: Partial<RunConfig> = {}): RunConfig => RunConfig.parse({ envs: ['counter'], model: 'test', epochs: 1, concurrency: 4, seed: 7, taskIds: ['counter/a'], ...over });
const fresh = (c: RunConfig) => ({ resolved: { config: c, tasks: selectTasks(c, counterCatalog) } });
const base = { catalog: counterCatalog, sleep: async () => {} };

/**
 * The golden model, answering each call on a 1 ms timer armed after the episode's watchdog: a
 * watchdog delay that overflowed is armed as 1 ms too and, by Node's timer order, fires first.
 */
const thinking = functionModel('test:thinking', async (_i, request, signal) => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return goldenModel.complete(request, { signal });
});

describe('deadlines', () => {
  it('start once the episode is open: a reset that takes longer than the deadline leaves the model its whole time', async () => {
    // The run's clock moves a minute while the world resets (a sandbox starting, an image building).
    let clock = Date.parse('2026-01-05T09:00:00Z');
    const slowReset = defineEnvironment({
      ...counterEnv,
      seed: (ctx) => {
        clock += 60_000;
        return counterEnv.seed(ctx);
      },
    });
    const store = openStore(':memory:');
    const summary = await executeRun({ ...base, catalog: { names: () => ['counter'], get: () => slowReset }, now: () => clock, store, model: thinking, run: fresh(config({ deadlineMs: 5_000 })) });
    const [rollout] = store.rollouts(summary.runId);
    assert.equal(rollout?.terminationReason, 'answered', 'the model was not scored for time the reset took');
    assert.equal(rollout?.passed, true);
    assert.equal(rollout?.stats.modelCalls, 3);
  });

  it('as long as a timer can wait do not end every rollout at once (the watchdog\'s delay does not overflow)', async () => {
    const store = openStore(':memory:');
    const summary = await executeRun({ ...base, store, model: thinking, graceMs: 10_000, run: fresh(config({ deadlineMs: MAX_TIMER_MS })) });
    const [rollout] = store.rollouts(summary.runId);
    assert.equal(rollout?.status, 'scored', JSON.stringify(rollout?.error));
    assert.equal(rollout?.passed, true);
  });
});

describe('a cancelled run', () => {
  it('stops waiting for an episode whose tool ignores the cancel graceMs after it, and leaves the rollout missing', { timeout: 60_000 }, async () => {
    const store = openStore(':memory:');
    const cancel = new AbortController();
    // Calls the tool that never returns; the run is cancelled once the call is on its way.
    const hanger = functionModel('test:hang', () => {
      setImmediate(() => cancel.abort(new Error('SIGINT')));
      return reply(assistant({ toolCalls: [{ id: 'h', name: 'hang', arguments: {}, argumentsText: '{}' }] }));
    });
    const started = Date.now();
    const summary = await executeRun({ ...base, store, model: hanger, graceMs: 50, signal: cancel.signal, run: fresh(config({ deadlineMs: 120_000 })) });
    assert.ok(Date.now() - started < 30_000, `the run waited ${Date.now() - started} ms for a 120 s deadline`);
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual({ rollouts: summary.rollouts, missing: summary.missing }, { rollouts: 0, missing: 1 });
    // --resume runs it again.
    const resumed = await executeRun({ ...base, store, model: goldenModel, run: { resume: summary.runId } });
    assert.deepEqual({ status: resumed.status, scored: resumed.scored, passed: resumed.passed }, { status: 'finished', scored: 1, passed: 1 });
  });

  it('starts no new attempt of a rollout that was backing off from an infra error', async () => {
    const store = openStore(':memory:');
    const cancel = new AbortController();
    let calls = 0;
    const down = functionModel('test:down', () => (calls++, { ok: false, kind: 'connection', message: 'connection refused', retryable: true }));
    // The run is interrupted while the rollout waits to retry.
    const summary = await executeRun({ ...base, store, model: down, signal: cancel.signal, sleep: async () => cancel.abort(new Error('SIGINT')), run: fresh(config({ maxAttempts: 3 })) });
    assert.equal(summary.status, 'interrupted');
    assert.equal(calls, 1);
    const attempts = new Set(store.events(rolloutIdFor(summary.runId, 'counter/a', 0)).map((e) => e.attempt));
    assert.deepEqual([...attempts], [1], 'no second attempt reset a world or recorded anything');
  });

  it('does not wait out the retry backoff', { timeout: 30_000 }, async () => {
    const store = openStore(':memory:');
    const cancel = new AbortController();
    const down = functionModel('test:down', () => {
      setImmediate(() => cancel.abort(new Error('SIGINT')));
      return { ok: false, kind: 'connection', message: 'connection refused', retryable: true };
    });
    // A backoff that would never end by itself.
    const summary = await executeRun({ ...base, store, model: down, signal: cancel.signal, sleep: () => new Promise<void>(() => {}), run: fresh(config({ maxAttempts: 3 })) });
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.missing, 1);
  });
});
