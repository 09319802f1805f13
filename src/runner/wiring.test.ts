import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, RECORDED_BY_HEADER, RunConfig } from '../core/index.ts';
import { getEnvironment } from '../envs/index.ts';
import { openStore } from '../store/index.ts';
import { counterCatalog } from '../../test/support/counter-env.ts';
import { functionModel, goldenModel } from '../../test/support/models.ts';
import { routeThroughGateway } from './model.ts';
import { resolveRun, selectTasks } from './resolve.ts';
import { executeRun } from './run.ts';

const MAIL_TASK = getEnvironment('mail').tasks()[0]!.id;

async function perturbedRun(perturbationSeed: number) {
  const store = openStore(':memory:');
  const resolved = await resolveRun({ envs: ['mail'], taskIds: [MAIL_TASK], model: 'oracle', epochs: 2, concurrency: 2, seed: 1, perturbations: [{ id: 'tools.rename' }, { id: 'prompts.system', params: { variant: 'terse' } }], perturbationSeed });
  const summary = await executeRun({ store, run: { resolved }, sleep: async () => {} });
  const rollouts = store.rollouts(summary.runId);
  const calls = store.modelCalls(rollouts[0]!.id);
  return { summary, rollouts, calls, config: store.getRun(summary.runId)!.config };
}

describe('runner: perturbations a run names', () => {
  it('applies them to every rollout, records them with seeds, and the re-mapped oracle still passes', async () => {
    const a = await perturbedRun(5);
    assert.equal(a.summary.passed, 2);
    // Stored with defaults filled in, in the order they apply.
    assert.deepEqual(a.config.perturbations.map((p) => p.id), ['tools.rename', 'prompts.system']);
    for (const rollout of a.rollouts) assert.deepEqual(rollout.perturbations.map((p) => p.name), ['tools.rename', 'prompts.system']);
    // The agent saw renamed tools, not the environment's own names.
    const offered = a.calls[0]!.request.tools.map((t) => t.name);
    const original = Object.keys(getEnvironment('mail').tools);
    assert.ok(offered.length > 0);
    assert.ok(offered.every((name) => !original.includes(name)), `renamed: ${offered.join(', ')}`);
    // Same seed: the same perturbed task; another seed: other draws.
    const b = await perturbedRun(5);
    assert.deepEqual(b.rollouts.map((r) => r.perturbations), a.rollouts.map((r) => r.perturbations));
    assert.deepEqual(b.calls[0]!.request.tools, a.calls[0]!.request.tools);
    const c = await perturbedRun(6);
    assert.notDeepEqual(c.rollouts[0]!.perturbations, a.rollouts[0]!.perturbations);
  });

  it('rejects unknown ids and scaffold switches a run cannot make, naming what is accepted', async () => {
    await assert.rejects(resolveRun({ envs: ['mail'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, perturbations: [{ id: 'tools.bogus' }] }), (e: unknown) => e instanceof InputError && /unknown perturbation "tools.bogus"/.test(e.message) && /tools\.rename/.test(e.message));
    await assert.rejects(resolveRun({ envs: ['mail'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, perturbations: [{ id: 'scaffold.tools', params: { mode: 'text', format: 'hermes' } }] }), (e: unknown) => e instanceof InputError && e.where === 'perturbations' && /robustness/.test(e.message));
  });
});

describe('runner: retries keep one event sequence per attempt', () => {
  it('writes infra_retry after the failed attempt\'s own events instead of over its first one', async () => {
    const store = openStore(':memory:');
    let failures = 0;
    const flaky = functionModel('test:flaky-once', (_i, request) => {
      if (failures++ === 0) return { ok: false, kind: 'http', message: 'HTTP 503', retryable: true };
      return goldenModel.complete(request, { signal: new AbortController().signal });
    });
    const config = RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'test', epochs: 1, concurrency: 1, seed: 3, maxAttempts: 2 });
    const summary = await executeRun({ store, catalog: counterCatalog, model: flaky, sleep: async () => {}, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } } });
    const rollout = store.rollouts(summary.runId)[0]!;
    assert.equal(rollout.attempt, 2);
    const first = store.events(rollout.id).filter((e) => e.attempt === 1);
    assert.equal(first[0]?.type, 'rollout_started');
    assert.equal(first.at(-1)?.type, 'infra_retry');
    assert.deepEqual(first.map((e) => e.seq), first.map((_e, i) => i));
  });
});

describe('runner: calls through a gateway', () => {
  it('sends what the client addressed to the model to the rollout\'s gateway route, marked as recorded by the client', async () => {
    const seen: { url: string; header: string | null }[] = [];
    const inner: typeof fetch = async (input, init) => {
      const request = input instanceof Request ? input : new Request(String(input), init);
      seen.push({ url: request.url, header: request.headers.get(RECORDED_BY_HEADER) });
      if (input instanceof Request) assert.equal(await input.text(), '{"prompt":"x"}');
      return new Response('{}');
    };
    const routed = routeThroughGateway({ baseUrl: 'http://127.0.0.1:8000/v1', gateway: 'http://127.0.0.1:9000/', rolloutId: 'ro_a b' }, inner);
    await routed('http://127.0.0.1:8000/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(seen, [{ url: 'http://127.0.0.1:9000/rollouts/ro_a%20b/v1/chat/completions', header: 'client' }]);
    await routed(new Request('http://127.0.0.1:8000/v1/completions', { method: 'POST', body: '{"prompt":"x"}' }));
    assert.deepEqual(seen[1], { url: 'http://127.0.0.1:9000/rollouts/ro_a%20b/v1/completions', header: 'client' });
    assert.throws(() => routed('http://elsewhere/v1/x'), InputError);
  });

  it('refuses a gateway for models that cannot record their own calls through it', async () => {
    await assert.rejects(resolveRun({ envs: ['mail'], model: 'oracle', epochs: 1, concurrency: 1, seed: 0, gateway: 'http://127.0.0.1:9000' }), (e: unknown) => e instanceof InputError && e.where === 'gateway');
  });
});

describe('runner: an LLM plays the simulated user', () => {
  it('records its calls with purpose user and blames a broken user endpoint on the simulator, not the agent', async () => {
    const store = openStore(':memory:');
    // Nothing listens on port 9 (discard): the user's endpoint is down.
    const resolved = await resolveRun({ envs: ['mail'], taskIds: ['mail/ask-reply-choice-catering'], model: 'oracle', user: 'openai:http://127.0.0.1:9/v1#user-model', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 });
    assert.equal(resolved.config.user, 'openai:http://127.0.0.1:9/v1#user-model');
    const summary = await executeRun({ store, run: { resolved }, sleep: async () => {}, modelEnvironment: { env: {} } });
    const rollout = store.rollouts(summary.runId)[0]!;
    assert.equal(rollout.status, 'infra_error');
    assert.equal(rollout.error?.source, 'user_simulator');
    const userCalls = store.modelCalls(rollout.id).filter((c) => c.purpose === 'user');
    assert.ok(userCalls.length >= 1, 'the failed user call is on record');
    await assert.rejects(resolveRun({ envs: ['mail'], model: 'oracle', user: 'nonsense:x', epochs: 1, concurrency: 1, seed: 0 }), (e: unknown) => e instanceof InputError && e.where === 'user');
  });
});
