// A run through the queue stores what the in-process runner stores for the same settings: the same
// rollout ids (for its run id), seeds, statuses, scores, model calls and events, for the oracle and
// a scripted model on mail and terminal.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { rolloutIdFor, type JsonValue, type Store } from '../src/core/index.ts';
import { getEnvironment } from '../src/envs/index.ts';
import { startMockModelServer, type MockModelServer } from '../src/model/index.ts';
import { executeRun, resolveRun, rolloutSeed } from '../src/runner/index.ts';
import { executeQueuedRun, startWorker, type QueueWorker } from '../src/runner/queue/index.ts';
import { openStore } from '../src/store/index.ts';
import { startRedis, type RedisServer } from './queue-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-eq-'));
/** A scripted model for `env`: one tool call with reasoning, then an answer. */
function scriptFor(env: string, tool: string, args: string): string {
  const path = join(dir, `${env}.yaml`);
  const turns = ['model: scripted-queue', 'turns:', '  - reasoning: Look around first.', '    content: Looking.', '    toolCalls:', `      - name: ${tool}`, `        arguments: ${args}`, '  - reasoning: That is enough.', '    content: Done looking.'];
  writeFileSync(path, turns.join('\n'));
  return path;
}
// Not `ls -l`: a real sandbox's files carry the wall clock's minute (the sandbox's root is made
// when it starts), so two runs a minute boundary apart would differ in that alone.
const scripts: Record<string, string> = { mail: scriptFor('mail', 'search_messages', '{ query: invoice }'), terminal: scriptFor('terminal', 'run_command', '{ command: "ls -aR; wc -c CHANGELOG.md package.json" }') };

/** Replaces run-specific ids with names that mean the same thing in both stores, and drops clock readings. */
function normalise(value: unknown, ids: Map<string, string>): JsonValue {
  if (typeof value === 'string') {
    let out = ids.get(value) ?? value;
    for (const [id, name] of ids) if (id.startsWith('run_') && out.includes(id)) out = out.split(id).join(name);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, ids));
  if (value && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) if (!['startedAt', 'endedAt', 'durationMs', 'latencyMs', 'at'].includes(k) && v !== undefined) out[k] = normalise(v, ids);
    return out;
  }
  return value as JsonValue;
}

/** Everything stored for a run, by task and epoch, with ids named by what they identify. */
function snapshot(store: Store, runId: string) {
  const rollouts = store.rollouts(runId);
  const ids = new Map<string, string>([[runId, 'RUN']]);
  for (const r of rollouts) {
    ids.set(r.id, `rollout:${r.taskId}#${r.epoch}`);
    for (const c of store.modelCalls(r.id)) ids.set(c.id, `call:${r.taskId}#${r.epoch}/${c.attempt}.${c.index}`);
  }
  return rollouts.map((r) => ({
    rollout: normalise(r, ids),
    calls: normalise(store.modelCalls(r.id), ids),
    events: normalise(store.events(r.id), ids),
  }));
}

/** How the store laid out its model calls: delta sizes per call, in task/epoch/attempt/index order. */
function layout(path: string): { keep: number; wireKeep: number; tail: number; toolsShared: number }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT c.messages_keep AS keep, c.wire_messages_keep AS wireKeep, length(c.messages_tail) AS tail, c.tools_from IS NOT NULL AS toolsShared
         FROM model_calls c JOIN rollouts r ON r.id = c.rollout_id ORDER BY r.task_id, r.epoch, c.attempt, c.idx`,
      )
      .all() as { keep: number; wireKeep: number; tail: number; toolsShared: number }[];
  } finally {
    db.close();
  }
}

describe('queued runs store what in-process runs store', () => {
  let redis: RedisServer;
  let worker: QueueWorker;
  before(async () => {
    redis = await startRedis();
    worker = await startWorker({ redis: redis.target, concurrency: 3 });
  });
  after(async () => {
    await worker?.close();
    await redis?.stop();
  });

  const cases = [
    { env: 'mail', model: 'oracle' },
    { env: 'terminal', model: 'oracle' },
    { env: 'mail', model: 'scripted' },
    { env: 'terminal', model: 'scripted' },
  ];
  it('gives the run\'s user model to the simulated user, as in process (a dead user endpoint is the simulator\'s infra error)', { timeout: 120_000 }, async () => {
    // Nothing listens on port 9 (discard). Without the user model the task's scripted user would answer and the oracle pass.
    const resolved = await resolveRun({ envs: ['mail'], taskIds: ['mail/ask-reply-choice-catering'], model: 'oracle', user: 'openai:http://127.0.0.1:9/v1#user-model', epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 });
    const queued = openStore(join(dir, 'user-model-queued.db'));
    const summary = await executeQueuedRun({ store: queued, run: { resolved }, queue: { redis: redis.target } });
    const [rollout] = queued.rollouts(summary.runId);
    assert.equal(rollout?.status, 'infra_error');
    assert.equal(rollout?.error?.source, 'user_simulator');
    assert.ok(queued.modelCalls(rollout.id).some((c) => c.purpose === 'user'), 'the failed user call is on record');
  });

  for (const c of cases) {
    it(`${c.model} on ${c.env}: same ids, seeds, scores, calls and events`, { timeout: 120_000 }, async () => {
      const taskIds = getEnvironment(c.env).tasks().slice(0, 2).map((t) => t.id);
      const model = c.model === 'scripted' ? `scripted:${scripts[c.env]}` : c.model;
      const resolved = await resolveRun({ envs: [c.env], taskIds, model, epochs: 2, groupSize: 2, concurrency: 2, seed: 11 });
      const local = openStore(join(dir, `${c.model}-${c.env}-local.db`));
      const queued = openStore(join(dir, `${c.model}-${c.env}-queued.db`));
      const inProcess = await executeRun({ store: local, run: { resolved } });
      const viaQueue = await executeQueuedRun({ store: queued, run: { resolved }, queue: { redis: redis.target } });
      assert.equal(viaQueue.status, 'finished');
      assert.equal(viaQueue.rollouts, 4);
      assert.equal(viaQueue.queue.duplicates, 0);
      for (const r of queued.rollouts(viaQueue.runId)) {
        assert.equal(r.id, rolloutIdFor(viaQueue.runId, r.taskId, r.epoch));
        assert.equal(r.seed, rolloutSeed(11, r.taskId, r.epoch, 2));
      }
      const expected = snapshot(local, inProcess.runId);
      const actual = snapshot(queued, viaQueue.runId);
      assert.ok(expected.every((e) => (e.calls as JsonValue[]).length > 0), 'every rollout made model calls');
      if (c.model === 'oracle') assert.equal(viaQueue.passed, 4);
      assert.deepEqual(actual, expected);
      // Stored the same way too: each call as a delta against the previous one, the tool list once.
      assert.deepEqual(layout(queued.path), layout(local.path));
      assert.ok(layout(queued.path).some((row) => row.keep > 0));
      const { runId: _a, durationMs: _b, queue: _q, ...summary } = viaQueue;
      const { runId: _c, durationMs: _d, ...reference } = inProcess;
      assert.deepEqual(normalise(summary, new Map([[viaQueue.runId, 'RUN']])), normalise(reference, new Map([[inProcess.runId, 'RUN']])));
    });
  }
});

describe('a queued run against an OpenAI-compatible endpoint', () => {
  const KEY = 'sk-queue-test-0123456789';
  let redis: RedisServer;
  let server: MockModelServer;
  let worker: QueueWorker;
  before(async () => {
    redis = await startRedis();
    const turn = (i: number) => ({ reasoning: `step ${i}`, content: '', toolCalls: [{ name: 'search_messages', arguments: { query: `invoice ${i}` } }] });
    server = await startMockModelServer({ script: { model: 'mock', turns: [turn(0), turn(1), turn(2), { reasoning: 'done', content: `Finished. (The key was ${KEY}.)` }] } });
    // The worker's own key: it is scrubbed from results before they leave the worker.
    worker = await startWorker({ redis: redis.target, concurrency: 2, modelEnvironment: { env: { OPENAI_API_KEY: KEY } } });
  });
  after(async () => {
    await worker?.close();
    await server?.close();
    await redis?.stop();
  });

  it('stores the wire exchanges as the in-process runner does, and the worker\'s key never leaves it', { timeout: 120_000 }, async () => {
    const taskIds = getEnvironment('mail').tasks().slice(0, 2).map((t) => t.id);
    const resolved = await resolveRun({ envs: ['mail'], taskIds, model: `openai:${server.url}#mock`, epochs: 1, concurrency: 2, seed: 3 });
    const local = openStore(join(dir, 'openai-local.db'), { secrets: [KEY] });
    // The coordinator's store is told nothing about the worker's key.
    const queued = openStore(join(dir, 'openai-queued.db'));
    const inProcess = await executeRun({ store: local, run: { resolved }, modelEnvironment: { env: { OPENAI_API_KEY: KEY } } });
    const viaQueue = await executeQueuedRun({ store: queued, run: { resolved }, queue: { redis: redis.target } });
    assert.equal(viaQueue.status, 'finished');
    const actual = snapshot(queued, viaQueue.runId);
    assert.deepEqual(actual, snapshot(local, inProcess.runId));
    const calls = actual.flatMap((r) => r.calls as { wire?: { request: { messages: unknown[] } } }[]);
    assert.equal(calls.length, 8);
    assert.ok(calls.every((c) => c.wire && c.wire.request.messages.length >= 2), 'every call kept its wire body');
    assert.deepEqual(layout(queued.path), layout(local.path));
    assert.ok(layout(queued.path).some((row) => row.wireKeep > 0), 'wire messages stored as deltas');
    const answers = queued.rollouts(viaQueue.runId).map((r) => r.finalAnswer);
    assert.deepEqual(answers, ['Finished. (The key was ***.)', 'Finished. (The key was ***.)']);
    assert.ok(!JSON.stringify(actual).includes(KEY));
    local.close();
    queued.close();
  });

  it('scrubs the worker\'s key from whatever carries it, before the result goes to Redis', { timeout: 60_000 }, async () => {
    // A scripted model has no key to hide, so nothing upstream of the worker removes it.
    const leaky = join(dir, 'leaky.yaml');
    writeFileSync(leaky, ['model: leaky', 'turns:', `  - content: "my key is ${KEY}"`].join('\n'));
    const taskIds = getEnvironment('mail').tasks().slice(0, 1).map((t) => t.id);
    const resolved = await resolveRun({ envs: ['mail'], taskIds, model: `scripted:${leaky}`, epochs: 1, concurrency: 1, seed: 3 });
    const queued = openStore(':memory:');
    const summary = await executeQueuedRun({ store: queued, run: { resolved }, queue: { redis: redis.target } });
    const [rollout] = queued.rollouts(summary.runId);
    assert.equal(rollout?.finalAnswer, 'my key is ***');
    assert.equal(queued.modelCalls(rollout.id)[0]?.response?.message.content, 'my key is ***');
  });
});
