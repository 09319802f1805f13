import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GAUNTLET_VERSION, InputError, RunConfig, SCHEMA_VERSION, type RunId } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { startFakeEngine, toolWalkPolicy, type FakeEngine } from '../fake-engine/index.ts';
import { EXTERNAL_SCAFFOLD, GATEWAY_ENV, gatewayBaseUrl, startGateway } from './index.ts';
import { manualClock } from '../../model/testing.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { postJson } from './test-support.ts';

// `--run RUN_ID`: external agents' rollouts recorded under one stored run, committed when the
// client finishes them, and honestly when it does not.

const ASK = { messages: [{ role: 'user', content: 'Fix the parser.' }] };

describe('run mode', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
  });
  after(() => engine.close());

  it('creates the run, commits a finished rollout with the reported reward, and refuses more calls to it', async () => {
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_ext' });
    const run = store.getRun('run_ext')!;
    assert.equal(run.status, 'running');
    assert.deepEqual(run.config.envs, [GATEWAY_ENV]);
    assert.deepEqual((run.config.modelOptions.gateway as { scaffold: string }).scaffold, EXTERNAL_SCAFFOLD);

    const url = gatewayBaseUrl(gateway.url, 'ro_one');
    assert.equal((await postJson(`${url}/chat/completions`, ASK)).status, 200);
    assert.equal((await postJson(`${url}/chat/completions`, ASK)).status, 200);
    const finish = await postJson(`${gateway.url}/rollouts/ro_one/finish`, { reward: 0.5, answer: 'fixed', taskId: 'parser-task', groupId: 'g1' });
    assert.equal(finish.status, 200, finish.text);
    assert.deepEqual(JSON.parse(finish.text), { rollout: { id: 'ro_one', runId: 'run_ext', attempt: 1, status: 'scored', terminationReason: 'answered', score: 0.5, passed: null, modelCalls: 2 } });
    const rollout = store.getRollout('ro_one')!;
    assert.equal(rollout.taskId, 'parser-task');
    assert.equal(rollout.groupId, 'g1');
    assert.equal(rollout.finalAnswer, 'fixed');
    assert.equal(rollout.scaffold, EXTERNAL_SCAFFOLD);
    assert.equal(rollout.rewardTerms[0]?.value, 0.5);
    assert.equal(store.modelCalls('ro_one').length, 2);

    const again = await postJson(`${url}/chat/completions`, ASK);
    assert.equal(again.status, 409);
    assert.match(again.text, /is finished; a new rollout needs a new id/);
    assert.equal((await postJson(`${gateway.url}/rollouts/ro_one/finish`, {})).status, 409);
    assert.equal((await postJson(`${gateway.url}/rollouts/ro_none/finish`, {})).status, 404);
    const bad = await postJson(`${gateway.url}/rollouts/ro_one/finish`, { reward: 'high' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /reward/);
    await gateway.close();
    assert.equal(store.getRun('run_ext')!.status, 'finished');
    store.close();
  });

  it('finishes without a reward as scored with no score, and commits rollouts left open at shutdown as cancelled', async () => {
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_open' });
    await postJson(`${gatewayBaseUrl(gateway.url, 'ro_unjudged')}/chat/completions`, ASK);
    await postJson(`${gatewayBaseUrl(gateway.url, 'ro_left_open')}/chat/completions`, ASK);
    assert.equal((await postJson(`${gateway.url}/rollouts/ro_unjudged/finish`, '')).status, 200);
    assert.deepEqual(gateway.stats().rollouts, { attached: 0, open: 1, finished: 1, abandoned: 0 });
    await gateway.close();
    const unjudged = store.getRollout('ro_unjudged')!;
    assert.equal(unjudged.status, 'scored');
    assert.equal(unjudged.score, null);
    assert.deepEqual(unjudged.rewardTerms, []);
    const open = store.getRollout('ro_left_open')!;
    assert.equal(open.status, 'cancelled');
    assert.equal(open.terminationReason, 'cancelled');
    assert.equal(store.modelCalls('ro_left_open').length, 1, 'its calls are kept');
    store.close();
  });

  it('commits a rollout with no call for abandonAfterMs as cancelled, its calls kept, and takes no more calls for it', async () => {
    const store = openStore(':memory:');
    const clock = manualClock(Date.parse('2026-12-06T06:00:00Z'));
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_idle', now: clock.now, abandonAfterMs: 100 });
    try {
      const url = gatewayBaseUrl(gateway.url, 'ro_crashed');
      assert.equal((await postJson(`${url}/chat/completions`, ASK)).status, 200);
      assert.equal((await postJson(`${url}/chat/completions`, ASK)).status, 200);
      // The clock has not moved: however many sweeps ran meanwhile, the rollout is still open.
      assert.deepEqual(gateway.stats().rollouts, { attached: 0, open: 1, finished: 0, abandoned: 0 });
      clock.advance(101);
      await waitFor(() => store.getRollout('ro_crashed')?.status === 'cancelled', 'the idle rollout to be committed');
      assert.equal(store.modelCalls('ro_crashed').length, 2, 'its calls are kept');
      assert.deepEqual(gateway.stats().rollouts, { attached: 0, open: 0, finished: 0, abandoned: 1 });
      const late = await postJson(`${url}/chat/completions`, ASK);
      assert.equal(late.status, 409);
      assert.match(late.text, /is finished; a new rollout needs a new id/);
    } finally {
      await gateway.close();
      store.close();
    }
  });

  it('a rollout whose last call failed upstream is an infra error, whatever reward the client reports', async () => {
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_infra' });
    const url = gatewayBaseUrl(gateway.url, 'ro_broken');
    await postJson(`${url}/chat/completions`, ASK);
    assert.equal((await postJson(`${url}/chat/completions`, { ...ASK, model: 'not-served' })).status, 404);
    const finish = await postJson(`${gateway.url}/rollouts/ro_broken/finish`, { reward: 1 });
    const rollout = (JSON.parse(finish.text) as { rollout: { status: string; score: number | null } }).rollout;
    assert.equal(rollout.status, 'infra_error');
    assert.equal(rollout.score, null);
    assert.match(store.getRollout('ro_broken')!.error!.message, /HTTP 404/);
    await gateway.close();
    store.close();
  });

  it('opens no rollout for a first request refused as a bad body: nothing to finish, nothing stored at shutdown', async () => {
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_refused' });
    try {
      const refused = await postJson(`${gatewayBaseUrl(gateway.url, 'ro_refused')}/chat/completions`, { messages: [null] });
      assert.equal(refused.status, 400, refused.text);
      assert.equal(gateway.stats().rollouts.open, 0);
      const finish = await postJson(`${gateway.url}/rollouts/ro_refused/finish`, { reward: 1 });
      assert.equal(finish.status, 404, finish.text);
      assert.match(finish.text, /made no model calls/);
      await gateway.close();
      assert.equal(store.getRollout('ro_refused'), null);
    } finally {
      await gateway.close();
      store.close();
    }
  });

  it('reopens a run a gateway made, and refuses one it did not', async () => {
    const store = openStore(':memory:');
    const first = await startGateway({ upstream: engine.url, store, runId: 'run_again' });
    await first.close();
    const second = await startGateway({ upstream: engine.url, store, runId: 'run_again' });
    assert.equal(store.getRun('run_again')!.status, 'running');
    await second.close();
    const config = RunConfig.parse({ envs: ['mail'], model: 'scripted', epochs: 1, concurrency: 1, seed: 0 });
    store.createRun({ schemaVersion: SCHEMA_VERSION, id: 'run_eval' as RunId, createdAt: new Date().toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'finished', finishedAt: null }, []);
    await assert.rejects(startGateway({ upstream: engine.url, store, runId: 'run_eval' }), (error: unknown) => error instanceof InputError && error.where === '--run' && /was not made by a gateway/.test(error.message));
    await assert.rejects(startGateway({ upstream: engine.url, store }), InputError);
    store.close();
  });
});

describe('run mode: finishing a rollout while its calls are in flight', () => {
  it('waits for the call, refuses new calls and a second finish meanwhile, and commits the rollout once', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    let calls = 0;
    // The first call is held upstream until the test lets it go; any later one is answered at once.
    const gated: typeof fetch = async (input, init) => {
      if (++calls === 1) {
        arrived();
        await released;
      }
      return fetch(input, init);
    };
    const engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
    const store = openStore(':memory:');
    const gateway = await startGateway({ upstream: engine.url, store, runId: 'run_race', engine: 'vllm', fetch: gated });
    try {
      const url = `${gatewayBaseUrl(gateway.url, 'ro_race')}/chat/completions`;
      const first = postJson(url, ASK);
      await held;
      const finish = postJson(`${gateway.url}/rollouts/ro_race/finish`, { reward: 1 });
      // The finish has taken the rollout off the open list and waits for its call.
      while (gateway.stats().rollouts.open > 0) await new Promise((resolve) => setImmediate(resolve));
      const late = await postJson(url, ASK);
      assert.equal(late.status, 409, late.text);
      assert.match(late.text, /ro_race .*being finished/);
      const twice = await postJson(`${gateway.url}/rollouts/ro_race/finish`, { reward: 0 });
      assert.equal(twice.status, 409, twice.text);
      release();
      assert.equal((await first).status, 200);
      const finished = await finish;
      assert.equal(finished.status, 200, finished.text);
      assert.deepEqual((JSON.parse(finished.text) as { rollout: { status: string; score: number; modelCalls: number } }).rollout, { id: 'ro_race', runId: 'run_race', attempt: 1, status: 'scored', terminationReason: 'answered', score: 1, passed: null, modelCalls: 1 });
    } finally {
      release();
      await gateway.close();
      await engine.close();
    }
    const rollout = store.getRollout('ro_race')!;
    assert.equal(rollout.status, 'scored', 'not overwritten by a second attempt cancelled at shutdown');
    assert.equal(rollout.score, 1);
    assert.equal(store.modelCalls('ro_race').length, 1);
    store.close();
  });
});
