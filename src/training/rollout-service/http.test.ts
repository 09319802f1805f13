import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient, ServiceRequestError } from './client.ts';
import { startRolloutService, type RolloutService, type RolloutServiceOptions } from './service.ts';
import { Gate, serviceOptions } from './test-support.ts';

const options = serviceOptions;

async function post(service: RolloutService, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: { field: string | null; message: string } } }> {
  const response = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, json: (await response.json()) as { error?: { field: string | null; message: string } } };
}

describe('rollout service HTTP boundary', () => {
  let engine: FakeEngine;
  let service: RolloutService;
  let gate: Gate;
  before(async () => {
    engine = await startFakeEngine();
    gate = new Gate(() => true);
    service = await startRolloutService(options(engine, { modelEnvironment: { env: {}, fetch: gate.fetch } }));
  });
  after(async () => {
    gate.release({ stop: true });
    await service.close();
    await engine.close();
  });

  it('answers a bad batch request with 400 naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ groups: 0, policyVersion: 0 }, 'groups', /at least 1 group/],
      [{ groups: '2', policyVersion: 0 }, 'groups', /whole number of groups/],
      [{ groups: 2 }, 'policyVersion', /training step/],
      [{ groups: 2, policyVersion: 0.5 }, 'policyVersion', /whole number/],
      [{ groups: 2, policyVersion: 0, tasks: ['buttons/a', 'buttons/zzz'] }, 'tasks.1', /"buttons\/zzz" is not a task of this session/],
      [{ groups: 2, policyVersion: 0, groupSize: 4 }, 'groupSize', /serves groups of 2/],
      [{ groups: 2, policyVersion: 0, format: 'sft' }, 'format', /one of verl, skyrl, trl, prime-rl, generic/],
      [{ groups: 2, policyVersion: 0, format: 'trl', variant: 'sync' }, 'variant', /"sync" is not a variant of trl/],
      [{ groups: 2, policyVersion: 0, advantage: 'ppo' }, 'advantage', /grpo/],
      [{ groups: 2, policyVersion: 0, epochs: 3 }, 'body', /epochs/],
    ];
    for (const [body, field, message] of cases) {
      const reply = await post(service, '/v1/batches', JSON.stringify(body));
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.json.error?.field, field, JSON.stringify(body));
      assert.match(reply.json.error?.message ?? '', message);
    }
    const broken = await post(service, '/v1/batches', '{"groups": 2,');
    assert.deepEqual([broken.status, broken.json.error?.field], [400, 'body']);
    assert.equal(service.core.stats().groups.started, 0, 'nothing was started by a refused request');
  });

  it('refuses a batch at a version other than the current one, and announcements that go backwards or name a bad endpoint', async () => {
    const client = new RolloutServiceClient(service.url);
    await assert.rejects(client.requestBatch({ groups: 1, policyVersion: 3 }), (e: unknown) => e instanceof ServiceRequestError && e.status === 409 && e.field === 'policyVersion' && /at version 0/.test(e.message));
    const bad: [unknown, number, string][] = [
      [{ version: -1 }, 400, 'version'],
      [{ version: 1, baseUrl: 'ftp://engine/v1' }, 400, 'baseUrl'],
      [{ version: 1, baseUrl: 'http://engine:8000' }, 400, 'baseUrl'],
      [{ version: 1, baseUrl: 'http://user:secret@engine:8000/v1' }, 400, 'baseUrl'],
      // Else `#x` would be read as the start of the model name: the version served by model "x#<model>".
      [{ version: 1, baseUrl: 'http://127.0.0.1:1/v1#x' }, 400, 'baseUrl'],
      [{ version: 1, model: '' }, 400, 'model'],
      [{ version: 0, baseUrl: 'http://127.0.0.1:1/v1' }, 409, 'version'],
    ];
    for (const [body, status, field] of bad) {
      const reply = await post(service, '/v1/policy', JSON.stringify(body));
      assert.deepEqual([reply.status, reply.json.error?.field], [status, field], JSON.stringify(body));
    }
    assert.doesNotMatch(JSON.stringify(await (await fetch(`${service.url}/v1/policy`)).json()), /secret/);
    assert.equal((await client.announce({ version: 0 })).version, 0, 'repeating the current announcement is harmless');
    assert.equal(service.core.policy().history.length, 1);
  });

  it('gives a batch one reader at a time and says so; unknown batches and routes are 404', async () => {
    const client = new RolloutServiceClient(service.url);
    const batch = await client.requestBatch({ groups: 1, policyVersion: 0 });
    const controller = new AbortController();
    const first = client.stream(batch.id, controller.signal);
    const pending = first.next();
    await gate.heldAtLeast(2);
    await assert.rejects(client.stream(batch.id).next(), (e: unknown) => e instanceof ServiceRequestError && e.status === 409 && /already has a reader/.test(e.message));
    await assert.rejects(client.stream('batch_404').next(), (e: unknown) => e instanceof ServiceRequestError && e.status === 404);
    assert.equal((await fetch(`${service.url}/v2/anything`)).status, 404);
    controller.abort();
    await assert.rejects(pending);
    assert.equal((await client.batch(batch.id)).state, 'open');
  });
});

describe('rollout service startup', () => {
  let engine: FakeEngine;
  before(async () => {
    engine = await startFakeEngine();
  });
  after(() => engine.close());

  it('demands a bearer token beyond loopback and checks it on every request', async () => {
    await assert.rejects(startRolloutService(options(engine, { host: '0.0.0.0' })), (e: unknown) => e instanceof InputError && e.where === 'host');
    const service = await startRolloutService(options(engine, { token: 'sesame' }));
    try {
      assert.equal((await fetch(`${service.url}/v1/stats`)).status, 401);
      assert.equal((await fetch(`${service.url}/v1/stats`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const stats = await new RolloutServiceClient(service.url, { token: 'sesame' }).stats<{ runId: string }>();
      assert.equal(stats.runId, service.runId);
    } finally {
      await service.close();
    }
  });

  it('refuses models that return no token ids, text-tools, and bad settings before serving', async () => {
    const refused = (over: Partial<RolloutServiceOptions>, where: string) =>
      assert.rejects(startRolloutService(options(engine, over)), (e: unknown) => e instanceof InputError && e.message.includes(where));
    await refused({ run: { envs: ['buttons'], model: 'oracle', groupSize: 2, concurrency: 1, seed: 1 } }, 'model');
    await refused({ run: { envs: ['buttons'], model: `openai:${engine.url}#${engine.model}`, scaffold: 'text-tools', modelOptions: { template: 'x', toolFormat: 'hermes' }, groupSize: 2, concurrency: 1, seed: 1 } }, 'scaffold');
    await refused({ maxStaleness: -1 }, 'maxStaleness');
    await refused({ window: 1.5 }, 'window');
    await refused({ format: 'sft' as 'generic' }, 'format');
  });

  it('records the session as one run holding its settings, finished when the service closes', async () => {
    const store = openStore(':memory:');
    const service = await startRolloutService(options(engine, { store, maxStaleness: 2, window: 3 }));
    const run = store.getRun(service.runId);
    assert.equal(run?.status, 'running');
    assert.deepEqual(run?.config.modelOptions, { rolloutService: { initialPolicyVersion: 0, maxStaleness: 2, window: 3, leftovers: 'keep' } });
    assert.deepEqual(run?.config.sampling, { temperature: 1, extra: { logprobs: true, return_token_ids: true } });
    assert.deepEqual(store.runTasks(service.runId).map((t) => t.task.id), ['buttons/a', 'buttons/b']);
    await service.close();
    assert.equal(store.getRun(service.runId)?.status, 'finished');
  });
});

describe('rollout service client', () => {
  it('names the batch and the line when the stream carries a line that is not a JSON object', async () => {
    for (const [body, problem] of [
      ['{"kind":"group"}\n<html>502 Bad Gateway</html>\n', /batch b1: line 2 of the stream is not JSON \(it starts "<html>502/],
      ['[1,2]\n', /batch b1: line 1 of the stream is not a JSON object/],
    ] as const) {
      const client = new RolloutServiceClient('http://service.test', { fetch: () => Promise.resolve(new Response(body)) });
      const seen: unknown[] = [];
      await assert.rejects(
        (async () => {
          for await (const line of client.stream('b1')) seen.push(line);
        })(),
        (error: unknown) => error instanceof Error && !(error instanceof SyntaxError) && problem.test(error.message),
      );
      assert.equal(seen.length, body.startsWith('{') ? 1 : 0);
    }
  });
});
