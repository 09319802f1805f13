// Numbers JSON cannot hold, through the queue: a −∞ logprob and a 1e999 a model wrote in its tool
// arguments (JSON.parse reads Infinity) reach the coordinator's store exactly as the in-process
// runner stores them, although the result crosses Redis as JSON text.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { InputError, rolloutIdFor, RunConfig, type JsonValue, type ModelCall, type RolloutId, type RunId, type Store } from '../../core/index.ts';
import { NON_FINITE_KEY, openStore } from '../../store/index.ts';
import { scoredRollout, turnCall } from '../../store/test-support.ts';
import { gateCatalog, startRedis, type RedisServer } from '../../../test/queue-support.ts';
import { executeRun } from '../run.ts';
import { resultPayload, RolloutBuffer } from './buffer.ts';
import { executeQueuedRun } from './coordinator.ts';
import { decodeResult } from './replay.ts';
import { startWorker, type QueueWorker } from './worker.ts';

const runId = 'run_nfq' as RunId;
const rolloutId = 'ro_nfq' as RolloutId;
const ids = { runId, rolloutId };
/** What the coordinator expects of the result: its rollout, and the task and epoch that rollout is of. */
const expected = { ...ids, taskId: 'counter/a', epoch: 0 };

/** A worker's result for `calls` (one attempt), as the coordinator reads it from Redis. */
function throughJson(calls: ModelCall[], events: [string, unknown][] = []) {
  const buffer = new RolloutBuffer({ runId, rolloutId, firstAttempt: 1 });
  const recorder = buffer.recorder({ runId, rolloutId, attempt: 1 });
  for (const call of calls) recorder.modelCall(call);
  for (const [type, data] of events) recorder.event(type as never, data as never);
  const text = resultPayload(buffer.result(scoredRollout({ id: rolloutId, runId })));
  return { text, decoded: decodeResult(JSON.parse(text), expected) };
}

const callsOf = (decoded: ReturnType<typeof decodeResult>) => decoded.sessions.flatMap((s) => s.entries.flatMap((e) => (e.kind === 'call' ? [e.call] : [])));

/** A turn whose model wrote 1e999 and -1e999 in its tool arguments. */
function bigArguments(): ModelCall {
  const call = turnCall(ids, 0);
  const args = { n: Number.POSITIVE_INFINITY, m: [1, Number.NEGATIVE_INFINITY] };
  const message = { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'count', arguments: args, argumentsText: '{"n": 1e999, "m": [1, -1e999]}' }] };
  return { ...call, response: { message, finishReason: 'tool_calls', usage: {} } };
}

/** The same turn, its engine reporting a −∞ logprob, its wire body holding NaN and −∞. */
function unspellable(): ModelCall {
  const call = bigArguments();
  const tokens = { source: 'engine' as const, promptIds: [1, 2], completionIds: [10, 11], completionLogprobs: [-0.5, Number.NEGATIVE_INFINITY] };
  return { ...call, response: { ...call.response!, tokens }, wire: { url: 'u', request: { messages: [{ role: 'user', v: Number.NaN }] }, status: 200, response: { logprob: Number.NEGATIVE_INFINITY } } };
}

describe('queue results: numbers JSON cannot hold', () => {
  it('restores a −∞ logprob, ±∞ arguments and NaN in the wire body and in event data, listed beside the payload', () => {
    const call = unspellable();
    const { text, decoded } = throughJson([call], [['world_event', { event: 'tick', params: { rate: Number.POSITIVE_INFINITY } }]]);
    assert.ok(JSON.parse(text)[NON_FINITE_KEY], 'the payload lists them');
    assert.deepEqual(callsOf(decoded), [call]);
    const event = decoded.sessions[0]!.entries[1]!;
    assert.equal(event.kind, 'event');
    assert.deepEqual(event.kind === 'event' && event.event.data, { event: 'tick', params: { rate: Number.POSITIVE_INFINITY } });
  });

  it('writes a result without such numbers exactly as before, and reads a result of an older worker (no list) as before', () => {
    const call = turnCall(ids, 0);
    const { text, decoded } = throughJson([call]);
    assert.equal(Object.hasOwn(JSON.parse(text) as object, NON_FINITE_KEY), false);
    assert.deepEqual(callsOf(decoded), [call]);
    // An older worker wrote 1e999 in arguments as null, without a list: it reads as null, as it did.
    const older = JSON.parse(throughJson([bigArguments()]).text) as Record<string, unknown>;
    delete older[NON_FINITE_KEY];
    const [read] = callsOf(decodeResult(older, expected));
    assert.deepEqual(read!.response!.message.toolCalls[0]!.arguments, { n: null, m: [1, null] });
  });

  it('does not keep an earlier call’s wire message for one that differs from it only where JSON writes null', () => {
    const request = { messages: [{ role: 'user' as const, content: 'x' }], tools: [], sampling: {} };
    const calls = [
      turnCall(ids, 0, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: null }], tools: [{ max: null }] }, status: 200 } }),
      turnCall(ids, 1, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: Number.NEGATIVE_INFINITY }, { role: 'user', v: 1 }], tools: [{ max: Number.POSITIVE_INFINITY }] }, status: 200 } }),
      turnCall(ids, 2, { request, wire: { url: 'u', request: { messages: [{ role: 'user', v: Number.NaN }, { role: 'user', v: 1 }], tools: [{ max: Number.POSITIVE_INFINITY }] }, status: 200 } }),
    ];
    assert.deepEqual(callsOf(throughJson(calls).decoded), calls);
  });

  it('refuses a list that names a position without null, and a +∞ logprob, naming where', () => {
    const text = throughJson([unspellable()]).text;
    const payload = JSON.parse(text) as Record<string, unknown>;
    const wrong = { ...payload, [NON_FINITE_KEY]: [[['rollout', 'id'], 'NaN']] };
    assert.throws(() => decodeResult(wrong, expected), (e: unknown) => e instanceof InputError && e.where === `result of ${rolloutId}: ${NON_FINITE_KEY}.0` && /rollout\.id, which does not hold null/.test(e.message) && /as a Gauntlet worker writes it/.test(e.message));
    const tags = payload[NON_FINITE_KEY] as [(string | number)[], string][];
    const positive = { ...payload, [NON_FINITE_KEY]: tags.map(([path, word]) => [path, path.includes('completionLogprobs') ? 'Infinity' : word]) };
    assert.throws(() => decodeResult(positive, expected), (e: unknown) => e instanceof InputError && /response\.tokens\.completionLogprobs\.1: holds Infinity: a logprob cannot be Infinity/.test(e.message));
  });
});

/**
 * A chat completions endpoint: its first answer calls `mark` with 1e999 among the arguments, with
 * a −∞ logprob (-1e999, as engines write it); its second answers. Written as text, as an engine writes it.
 */
function engine(): Promise<{ url: string; server: Server }> {
  const first = `{"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"mark","arguments":"{\\"id\\":\\"t0\\",\\"n\\":1e999}"}}]},"finish_reason":"tool_calls","token_ids":[5,6],"logprobs":{"content":[{"token":"a","logprob":-0.5},{"token":"b","logprob":-1e999}]}}],"prompt_token_ids":[1,2],"usage":{"prompt_tokens":2,"completion_tokens":2}}`;
  const second = `{"id":"c2","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"marked"},"finish_reason":"stop","token_ids":[7],"logprobs":{"content":[{"token":"marked","logprob":-1e999}]}}],"prompt_token_ids":[1,2,3],"usage":{"prompt_tokens":3,"completion_tokens":1}}`;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const messages = (JSON.parse(body) as { messages: { role: string }[] }).messages;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(messages.some((m) => m.role === 'assistant') ? second : first);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, server })));
}

/** Everything stored for a run, with its run-specific ids and clock readings taken out. */
function snapshot(store: Store, run: string): JsonValue {
  const strip = (value: unknown): JsonValue => {
    if (typeof value === 'string') return value.split(run).join('RUN');
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (['startedAt', 'endedAt', 'durationMs', 'latencyMs', 'at', 'id', 'runId', 'rolloutId', 'parentId'].includes(k) || v === undefined ? [] : [[k, strip(v)]])));
    }
    return value as JsonValue;
  };
  return store.rollouts(run).map((r) => strip({ rollout: r, calls: store.modelCalls(r.id), events: store.events(r.id) }));
}

describe('a queued run whose model writes numbers JSON cannot hold', () => {
  const KEY = 'sk-nonfinite-test-key';
  let redis: RedisServer;
  let worker: QueueWorker;
  let model: { url: string; server: Server };
  const gate = gateCatalog({ tasks: 1 });
  before(async () => {
    redis = await startRedis();
    model = await engine();
    worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, modelEnvironment: { env: { OPENAI_API_KEY: KEY } } });
  });
  after(async () => {
    await worker?.close();
    model?.server.close();
    await redis?.stop();
  });

  it('stores the −∞ logprob and the 1e999 argument as the in-process run does', { timeout: 60_000 }, async () => {
    const config = RunConfig.parse({ envs: ['gate'], model: `openai:${model.url}#m`, modelOptions: { stream: false }, epochs: 1, concurrency: 1, seed: 5 });
    const local = openStore(':memory:');
    const queued = openStore(':memory:');
    const inProcess = await executeRun({ store: local, run: { resolved: { config, tasks: gate.tasks } }, catalog: gate.catalog, modelEnvironment: { env: { OPENAI_API_KEY: KEY } } });
    const viaQueue = await executeQueuedRun({ store: queued, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
    assert.equal(viaQueue.status, 'finished');
    assert.equal(viaQueue.queue.unreadableResults, 0);
    const calls = queued.modelCalls(rolloutIdFor(viaQueue.runId, 'gate/t0', 0));
    assert.deepEqual(calls.map((c) => c.response?.tokens?.completionLogprobs), [[-0.5, Number.NEGATIVE_INFINITY], [Number.NEGATIVE_INFINITY]]);
    assert.deepEqual(calls[0]!.response!.message.toolCalls[0]!.arguments, { id: 't0', n: Number.POSITIVE_INFINITY });
    assert.deepEqual(snapshot(queued, viaQueue.runId), snapshot(local, inProcess.runId));
    local.close();
    queued.close();
  });
});
