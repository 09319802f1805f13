// The queue with a shared key (GAUNTLET_QUEUE_KEY): Redis is no longer trusted. A keyed worker
// runs only jobs its coordinator signed for that rollout and queue; a keyed coordinator stores only
// results a keyed worker signed for that run and rollout; either side without the key is told so.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { newRunId, rolloutIdFor, RunConfig, taskHash, type JsonValue, type RolloutId, type Store, type Task } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { startMockModelServer } from '../../model/index.ts';
import { openStore } from '../../store/index.ts';
import { bullQueue, endHeldRun, gateCatalog, gateRollout, gateRunConfig, redisWithRawClient, resultEnvelope, resultJobOptions, unreadableResults, until } from '../../../test/queue-support.ts';
import { rolloutSeed } from '../rollout.ts';
import { endpointOf, QUEUE_PREFIX, REGISTRY_KEY, resultQueueName, rolloutQueueName } from './connection.ts';
import { startQueuedRun, type CoordinatorEvent, type QueuedRunSummary } from './coordinator.ts';
import { rolloutJobName } from './session.ts';
import { QueueKey, signed } from './signing.ts';
import { startWorker, type QueueWorker, type WorkerEvent } from './worker.ts';

const SECRET = 'queue-key-for-tests-4be1c7d09a3f';
const key = new QueueKey(SECRET);
const otherKey = new QueueKey('some-other-queue-key-77e02b');

/** A rollout job as a coordinator of this code writes it (unsigned), for a run that exists nowhere. */
function forgedJob(runConfig: RunConfig, task: Task) {
  const runId = newRunId(new Date());
  const rolloutId = rolloutIdFor(runId, task.id, 0);
  const data = { protocol: 1, runId, rolloutId, epoch: 0, seed: rolloutSeed(runConfig.seed, task.id, 0, runConfig.groupSize), firstAttempt: 1, position: 0, config: runConfig, task, taskHash: taskHash(task), resultQueue: resultQueueName(runId) };
  return { runId, rolloutId, data };
}

const failures = (events: WorkerEvent[]) => events.filter((e): e is Extract<WorkerEvent, { type: 'failed' }> => e.type === 'failed');

describe('a worker holding the queue key', () => {
  const local = redisWithRawClient();

  it('refuses forged jobs (unsigned, or signed with another key) before anything in them runs: no call to their endpoint, no MCP command', { timeout: 60_000 }, async () => {
    const server = await startMockModelServer({ script: { model: 'mock', turns: [{ content: 'done' }] } });
    const marker = join(mkdtempSync(join(tmpdir(), 'gauntlet-forged-')), 'mcp-server-ran');
    const task = getEnvironment('mail').tasks()[0]!;
    const toEndpoint = RunConfig.parse({ envs: ['mail'], model: `openai:${server.url}#mock`, epochs: 1, concurrency: 1, seed: 3 });
    const withMcp = RunConfig.parse({ ...toEndpoint, mcpServers: [{ name: 'pwn', command: process.execPath, args: ['-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`] }] });
    const queueName = rolloutQueueName(endpointOf(toEndpoint));
    const unsigned = forgedJob(toEndpoint, task);
    const otherKeyed = forgedJob(toEndpoint, task);
    const mcp = forgedJob(withMcp, task);
    const rollouts = await bullQueue(local.redis, queueName);
    const events: WorkerEvent[] = [];
    let worker: QueueWorker | undefined;
    try {
      // What anyone who can write to Redis can do: register the endpoint queue and add jobs to it.
      await local.raw.hset(REGISTRY_KEY, queueName, endpointOf(toEndpoint));
      // A name that is not its endpoint's queue (here a run's results queue) is not served.
      await local.raw.hset(REGISTRY_KEY, resultQueueName(unsigned.runId), 'oracle');
      await rollouts.add(rolloutJobName(unsigned.runId), unsigned.data, { jobId: unsigned.rolloutId });
      await rollouts.add(rolloutJobName(otherKeyed.runId), signed(otherKey, 'job', { queue: queueName, jobId: otherKeyed.rolloutId }, otherKeyed.data), { jobId: otherKeyed.rolloutId });
      await rollouts.add(rolloutJobName(mcp.runId), mcp.data, { jobId: mcp.rolloutId });
      worker = await startWorker({ redis: local.redis.target, concurrency: 3, key, modelEnvironment: { env: { OPENAI_API_KEY: 'sk-worker-own-key-0123' } }, onEvent: (e) => events.push(e) });
      await until('all three jobs refused', () => (failures(events).length === 3 ? true : undefined), 30_000);
      const said = new Map(failures(events).map((e) => [e.rolloutId, e]));
      assert.match(said.get(unsigned.rolloutId)!.message, new RegExp(`^job ${unsigned.rolloutId} of run ${unsigned.runId} on ${queueName} refused: it is unsigned`));
      assert.match(said.get(otherKeyed.rolloutId)!.message, new RegExp(`^job ${otherKeyed.rolloutId} of run ${otherKeyed.runId} on ${queueName} refused: its signature does not match`));
      assert.match(said.get(mcp.rolloutId)!.message, /refused: it is unsigned/);
      assert.ok(failures(events).every((e) => e.final), 'refused once, not retried');
      assert.equal(events.some((e) => e.type === 'started'), false, 'no rollout started');
      assert.deepEqual(server.requests, [], 'the endpoint got no call');
      assert.equal(existsSync(marker), false, 'the MCP command never ran');
      for (const id of [unsigned.rolloutId, otherKeyed.rolloutId, mcp.rolloutId]) {
        assert.equal(await rollouts.getJobState(id), 'failed', 'kept in Redis as a failed job, saying why');
        assert.match((await rollouts.getJob(id))!.failedReason, /refused/);
      }
      assert.deepEqual(worker.serving(), [queueName]);
      assert.ok(events.some((e) => e.type === 'error' && e.message.includes(`"${resultQueueName(unsigned.runId)}" is not the queue of its endpoint`)));
    } finally {
      await worker?.close({ force: true });
      await rollouts.close();
      await server.close();
    }
  });

  it("counts a dead holder's saved spend only when it is signed with the key", { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2 });
    const store = openStore(':memory:');
    const events: WorkerEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(21), tasks: gate.tasks } }, queue: { redis: local.redis.target, key }, catalog: gate.catalog });
    const [t0, t1] = [rolloutIdFor(run.run.id, 'gate/t0', 0), rolloutIdFor(run.run.id, 'gate/t1', 0)];
    const queueName = rolloutQueueName('oracle');
    const rollouts = await bullQueue(local.redis, queueName);
    const spent = { attempts: 7, modelCalls: 70, toolCalls: 7, promptTokens: 700, completionTokens: 70 };
    let worker: QueueWorker | undefined;
    try {
      // As if earlier holders died mid-rollout: one saved spend is written by someone without the key.
      await (await rollouts.getJob(t0))!.updateProgress({ spent });
      await (await rollouts.getJob(t1))!.updateProgress(signed(key, 'progress', { queue: queueName, jobId: t1 }, { spent }));
      worker = await startWorker({ redis: local.redis.target, concurrency: 2, key, catalog: gate.catalog, onEvent: (e) => events.push(e) });
      const summary = await run.done;
      assert.equal(summary.status, 'finished');
      assert.equal(store.getRollout(t0)?.attempt, 1, 'the unsigned spend is not counted');
      assert.equal(store.getRollout(t1)?.attempt, 8, 'the signed spend is counted, its attempts numbered after');
      assert.ok(events.some((e) => e.type === 'error' && e.message.includes(`rollout ${t0} of run ${run.run.id}: the spend saved with its job is not signed`)));
    } finally {
      await worker?.close({ force: true });
      await rollouts.close();
    }
  });
});

describe('a coordinator holding the queue key', () => {
  const local = redisWithRawClient();

  it('keeps aside unsigned, badly signed and replayed results that a keyless coordinator would store as scores, and stores the signed ones', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 4, held: ['t3'] });
    const store = openStore(':memory:');
    const events: CoordinatorEvent[] = [];
    const abort = new AbortController();
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(22), tasks: gate.tasks } }, queue: { redis: local.redis.target, checkMs: 200, key }, catalog: gate.catalog, signal: abort.signal, onQueue: (e) => events.push(e) });
    const runId = run.run.id;
    const resultsName = resultQueueName(runId);
    const [t0, t1, t2] = [rolloutIdFor(runId, 'gate/t0', 0), rolloutIdFor(runId, 'gate/t1', 0), rolloutIdFor(runId, 'gate/t2', 0)];
    const envelope = (id: RolloutId, taskId: string) => resultEnvelope(id, { ...gateRollout({ id, runId, taskId }), finalAnswer: 'forged' });
    const results = await bullQueue(local.redis, resultsName);
    let worker: QueueWorker | undefined;
    try {
      await results.add('result', envelope(t0, 'gate/t0'), resultJobOptions(t0));
      await results.add('result', signed(otherKey, 'result', { queue: resultsName, jobId: t1 }, envelope(t1, 'gate/t1')), resultJobOptions(t1));
      // Signed with the right key for t0's place, sent as t2's.
      await results.add('result', signed(key, 'result', { queue: resultsName, jobId: t0 }, envelope(t2, 'gate/t2')), resultJobOptions(t2));
      await until('the three results reported', () => (unreadableResults(events).length === 3 ? true : undefined), 20_000);
      const said = new Map(unreadableResults(events).map((e) => [e.rolloutId, e.message]));
      assert.match(said.get(t0)!, new RegExp(`result job ${t0} from worker w-forger is unsigned, and this coordinator holds GAUNTLET_QUEUE_KEY.*kept in Redis`, 's'));
      assert.match(said.get(t1)!, /has a signature that does not match this coordinator's GAUNTLET_QUEUE_KEY/);
      assert.match(said.get(t2)!, /has a signature that does not match/);
      assert.equal(store.rollouts(runId).length, 0, 'nothing forged is stored');

      worker = await startWorker({ redis: local.redis.target, concurrency: 4, key, catalog: gate.catalog });
      await until('the real results of t0, t1 and t2 stored', () => (store.getRollout(t0) && store.getRollout(t1) && store.getRollout(t2) ? true : undefined), 20_000);
      gate.release();
      const summary = await run.done;
      assert.equal(summary.status, 'finished');
      assert.equal(summary.queue.unreadableResults, 3);
      assert.equal(summary.queue.duplicates, 0);
      assert.ok(store.rollouts(runId).every((r) => r.status === 'scored' && r.finalAnswer !== 'forged'));
    } finally {
      await endHeldRun(run, abort, gate);
      await worker?.close({ force: true });
      await results.close();
    }
  });
});

describe('a signed job replayed', () => {
  const local = redisWithRawClient();

  it('under another rollout id or on another endpoint queue is refused, and the rollout it was signed for runs once', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2 });
    const store = openStore(':memory:');
    const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(23), tasks: gate.tasks } }, queue: { redis: local.redis.target, key }, catalog: gate.catalog });
    const runId = run.run.id;
    const [t0, t1] = [rolloutIdFor(runId, 'gate/t0', 0), rolloutIdFor(runId, 'gate/t1', 0)];
    const rollouts = await bullQueue(local.redis, rolloutQueueName('oracle'));
    const elsewhere = rolloutQueueName('oracle @ http://127.0.0.1:9/v1');
    const other = await bullQueue(local.redis, elsewhere);
    const events: WorkerEvent[] = [];
    let worker: QueueWorker | undefined;
    try {
      const signedT0 = (await rollouts.getJob(t0))!.data as Record<string, unknown>;
      assert.equal((signedT0.signature as { scheme: string }).scheme, 'hmac-sha256');
      // t0's signed job in t1's place, and again on another endpoint's queue under its own id.
      assert.equal(await rollouts.remove(t1), 1);
      await rollouts.add(rolloutJobName(runId), signedT0, { jobId: t1 });
      await local.raw.hset(REGISTRY_KEY, elsewhere, 'oracle @ http://127.0.0.1:9/v1');
      await other.add(rolloutJobName(runId), signedT0, { jobId: t0 });
      worker = await startWorker({ redis: local.redis.target, concurrency: 2, key, catalog: gate.catalog, onEvent: (e) => events.push(e) });
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.deepEqual(summary.queue.failedJobs.map((f) => f.rolloutId), [t1]);
      assert.match(summary.queue.failedJobs[0]!.message, new RegExp(`job ${t1} of run ${runId} on ${rolloutQueueName('oracle')} refused: its signature does not match`));
      await until('the copy on the other queue refused', () => (failures(events).some((e) => e.message.includes(`job ${t0} of run ${runId} on ${elsewhere} refused: its signature does not match`)) ? true : undefined), 20_000);
      assert.equal(store.getRollout(t0)?.status, 'scored');
      assert.equal(store.getRollout(t1), null);
      assert.equal(gate.starts.get('t0'), 1, 't0 ran once, from its own job');
      assert.equal(gate.starts.get('t1'), undefined);
    } finally {
      await worker?.close({ force: true });
      await rollouts.close();
      await other.close();
    }
  });
});

describe('a key on one side only', () => {
  const local = redisWithRawClient();

  it('a keyed worker refuses every job of a keyless coordinator, which is told to set the key; resumed with it, the run finishes', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: local.redis.target, concurrency: 2, key, catalog: gate.catalog });
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(24), tasks: gate.tasks } }, queue: { redis: local.redis.target }, catalog: gate.catalog });
      const summary = await run.done;
      assert.equal(summary.status, 'interrupted');
      assert.equal(summary.queue.failedJobs.length, 2);
      assert.match(summary.failure ?? '', /refused: it is unsigned, and this worker holds GAUNTLET_QUEUE_KEY.*Its coordinator sent unsigned messages: set GAUNTLET_QUEUE_KEY to this worker's key in the coordinator's environment/);
      assert.equal(gate.starts.size, 0, 'nothing ran');
      assert.equal(store.rollouts(run.run.id).length, 0);
      // The failed jobs are signed as they are retried.
      const resumed = await startQueuedRun({ store, run: { resume: run.run.id }, queue: { redis: local.redis.target, key }, catalog: gate.catalog });
      const again = await resumed.done;
      assert.equal(again.status, 'finished');
      assert.equal(again.scored, 2);
    } finally {
      await worker.close({ force: true });
    }
  });

  it('a worker without the key refuses the jobs of a keyed run, saying the run requires it; a keyed worker then runs them', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2 });
    const store = openStore(':memory:');
    const keyless = await startWorker({ redis: local.redis.target, concurrency: 2, catalog: gate.catalog });
    let summary: QueuedRunSummary;
    let runId: string;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config: gateRunConfig(25), tasks: gate.tasks } }, queue: { redis: local.redis.target, key, jobAttempts: 1 }, catalog: gate.catalog });
      runId = run.run.id;
      summary = await run.done;
    } finally {
      await keyless.close({ force: true });
    }
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.queue.failedJobs.length, 2);
    assert.match(summary.failure ?? '', new RegExp(`job ro_\\w+ of run ${runId} on rollouts-\\w+ is signed: its coordinator holds GAUNTLET_QUEUE_KEY .*this worker has none; set GAUNTLET_QUEUE_KEY to the coordinator's key in this worker's environment`));
    assert.equal(gate.starts.size, 0, 'nothing ran');
    const keyed = await startWorker({ redis: local.redis.target, concurrency: 2, key, catalog: gate.catalog });
    try {
      const resumed = await startQueuedRun({ store, run: { resume: runId }, queue: { redis: local.redis.target, key }, catalog: gate.catalog });
      assert.equal((await resumed.done).status, 'finished');
    } finally {
      await keyed.close({ force: true });
    }
  });
});

/** Everything stored for a run, ids named by what they identify and clock readings dropped, for comparing two runs. */
function snapshot(store: Store, runId: string): JsonValue {
  const ids = new Map<string, string>([[runId, 'RUN']]);
  const rollouts = store.rollouts(runId);
  for (const r of rollouts) {
    ids.set(r.id, `rollout:${r.taskId}`);
    for (const c of store.modelCalls(r.id)) ids.set(c.id, `call:${r.taskId}/${c.attempt}.${c.index}`);
  }
  const normalise = (value: unknown): JsonValue => {
    if (typeof value === 'string') return ids.get(value) ?? value.split(runId).join('RUN');
    if (Array.isArray(value)) return value.map(normalise);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).filter(([k, v]) => v !== undefined && !['startedAt', 'endedAt', 'durationMs', 'latencyMs', 'at'].includes(k)).map(([k, v]) => [k, normalise(v)]));
    }
    return value as JsonValue;
  };
  return rollouts.map((r) => normalise({ rollout: r, calls: store.modelCalls(r.id), events: store.events(r.id) }));
}

/** Every key and value in Redis, as text. */
async function redisText(raw: Redis): Promise<string> {
  const parts: string[] = [];
  for (const k of await raw.keys('*')) {
    const type = await raw.type(k);
    const value =
      type === 'string' ? await raw.get(k)
      : type === 'hash' ? await raw.hgetall(k)
      : type === 'list' ? await raw.lrange(k, 0, -1)
      : type === 'set' ? await raw.smembers(k)
      : type === 'zset' ? await raw.zrange(k, 0, -1)
      : type === 'stream' ? await raw.xrange(k, '-', '+')
      : null;
    parts.push(`${k} ${JSON.stringify(value)}`);
  }
  return parts.join('\n');
}

describe('a run with the key on every side', () => {
  const local = redisWithRawClient();

  it('stores exactly what a keyless run stores, and the key appears nowhere: not in the store, Redis or any message', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-keyed-'));
    const messages: unknown[] = [];
    const onEvent = (e: unknown) => void messages.push(e);

    const plainGate = gateCatalog({ tasks: 3 });
    const plainStore = openStore(join(dir, 'plain.db'));
    const plainWorker = await startWorker({ redis: local.redis.target, concurrency: 3, catalog: plainGate.catalog });
    let plain: QueuedRunSummary;
    try {
      plain = await (await startQueuedRun({ store: plainStore, run: { resolved: { config: gateRunConfig(26), tasks: plainGate.tasks } }, queue: { redis: local.redis.target }, catalog: plainGate.catalog })).done;
    } finally {
      await plainWorker.close({ force: true });
    }

    // Held mid-run, so Redis is read while it holds signed jobs, saved spend and a running job.
    const gate = gateCatalog({ tasks: 3, held: ['t1'] });
    const keyedStore = openStore(join(dir, 'keyed.db'));
    const worker = await startWorker({ redis: local.redis.target, concurrency: 3, key, catalog: gate.catalog, spendSaveMs: 0, onEvent, onRollout: onEvent });
    let keyed: QueuedRunSummary;
    let midRun: string;
    try {
      const run = await startQueuedRun({ store: keyedStore, run: { resolved: { config: gateRunConfig(26), tasks: gate.tasks } }, queue: { redis: local.redis.target, key }, catalog: gate.catalog, onQueue: onEvent, onProgress: onEvent });
      await gate.holding;
      await until('the held job has saved its spend', async () => ((await local.raw.hget(`${QUEUE_PREFIX}:${rolloutQueueName('oracle')}:${rolloutIdFor(run.run.id, 'gate/t1', 0)}`, 'progress'))?.includes('hmac-sha256') ? true : undefined), 20_000);
      midRun = await redisText(local.raw);
      gate.release();
      keyed = await run.done;
    } finally {
      gate.release();
      await worker.close({ force: true });
    }

    assert.equal(plain.status, 'finished');
    assert.equal(keyed.status, 'finished');
    assert.equal(keyed.queue.unreadableResults, 0);
    assert.deepEqual(snapshot(keyedStore, keyed.runId), snapshot(plainStore, plain.runId));
    assert.match(midRun, /hmac-sha256/, 'Redis was read while it held signed messages');
    assert.ok(messages.some((m) => (m as { type?: string }).type === 'enqueued' && (m as { signed?: boolean }).signed === true));
    plainStore.close();
    keyedStore.close();
    const written = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'));
    for (const [what, text] of [['the store', written.join('\n')], ['Redis mid-run', midRun], ['Redis after', await redisText(local.raw)], ['messages', JSON.stringify(messages)]] as const) {
      assert.ok(!text.includes(SECRET), `the key appears in ${what}`);
    }
  });
});
