// Failures a distributed run must survive with every rollout stored exactly once: a worker killed
// mid-rollout (its job stalls and another worker runs it), Redis restarted mid-run with or without
// its data, and the coordinator stopped and resumed while workers keep finishing rollouts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { InputError, RunConfig, type Store } from '../src/core/index.ts';
import { getEnvironment, registerEnvironment, unregisterEnvironment } from '../src/envs/index.ts';
import { selectTasks } from '../src/runner/index.ts';
import { rolloutQueueName, startQueuedRun, startWorker, type CoordinatorEvent, type QueuedRunSummary, type QueueWorker, type WorkerEvent } from '../src/runner/queue/index.ts';
import { connectRedis, QUEUE_PREFIX, REGISTRY_KEY } from '../src/runner/queue/connection.ts';
import { createMetrics } from '../src/runner/metrics.ts';
import { openStore } from '../src/store/index.ts';
import { scraped } from './support/prometheus.ts';
import { counterCatalog } from './support/counter-env.ts';
import { gateCatalog, spawnWorker, startRedis, stopWorker, until, type RedisServer, type WorkerProcess } from './queue-support.ts';

/** Every rollout of the run stored once, scored and passed, with one attempt's calls and nothing else. */
function assertEachOnce(store: Store, summary: QueuedRunSummary, expected: number, callsPerRollout: number): void {
  assert.equal(summary.status, 'finished', summary.failure);
  assert.equal(summary.missing, 0);
  const rollouts = store.rollouts(summary.runId);
  assert.equal(rollouts.length, expected);
  assert.equal(new Set(rollouts.map((r) => r.id)).size, expected);
  for (const r of rollouts) {
    assert.equal(r.status, 'scored', `${r.id}: ${r.error?.message}`);
    assert.equal(r.passed, true);
    const calls = store.modelCalls(r.id);
    assert.equal(calls.length, callsPerRollout, `${r.id} has ${calls.length} calls`);
    assert.ok(calls.every((c) => c.attempt === r.attempt));
    assert.equal(store.events(r.id).filter((e) => e.type === 'rollout_started').length, 1);
  }
}

/** The rollout a worker child started that is blocked mid-way; its stdout (events) and stderr (the block) arrive in either order. */
function blockedRollout(worker: WorkerProcess): Promise<string> {
  return until('worker A blocked mid-rollout', () => {
    const started = worker.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; rolloutId?: string }).find((e) => e.type === 'started');
    return worker.lines.some((l) => l.includes('test: blocked at')) ? started?.rolloutId : undefined;
  });
}

/**
 * The deadline of runs whose worker blocks mid-rollout until killed. At the counter tasks' own 5 s
 * (meant for the watchdog's tests) a machine slow to reach the kill let the blocked worker give the
 * rollout up as an infra error first (5 s + 10 s of grace), so it was never taken over.
 */
const BLOCKED_DEADLINE_MS = 120_000;

describe('a worker killed mid-rollout', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('loses nothing: its job stalls, another worker runs it, every rollout is stored once', { timeout: 120_000 }, async () => {
    const config = RunConfig.parse({ envs: ['counter'], model: 'oracle', epochs: 6, concurrency: 1, seed: 3, deadlineMs: BLOCKED_DEADLINE_MS });
    const store = openStore(':memory:');
    // Worker A blocks forever at its fifth increment: mid-rollout, with results already stored.
    // B joins only then, so A is sure to get that far.
    const a = spawnWorker({ url: redis.url, concurrency: 2, env: { GAUNTLET_TEST_BLOCK_AT_CALL: '5' } });
    let b: WorkerProcess | undefined;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, queue: { redis: redis.target }, catalog: counterCatalog });
      await until('worker A blocked mid-rollout with 4 results stored', () => (a.lines.some((l) => l.includes('test: blocked at')) && store.rollouts(run.run.id).length >= 4 ? true : undefined));
      b = spawnWorker({ url: redis.url, concurrency: 2 });
      const joined = b;
      await until('worker B serving', () => (joined.lines.some((l) => l.includes('"serving"')) ? true : undefined));
      const events = (lines: string[]) => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; rolloutId?: string });
      const startedOnA = events(a.lines).filter((e) => e.type === 'started').map((e) => e.rolloutId!);
      const finishedOnA = new Set(events(a.lines).filter((e) => e.type === 'finished').map((e) => e.rolloutId!));
      const cut = startedOnA.filter((id) => !finishedOnA.has(id));
      assert.ok(cut.length >= 1, 'A holds at least the blocked rollout');
      a.child.kill('SIGKILL');
      await a.exited;
      const summary = await run.done;
      assertEachOnce(store, summary, 18, 3);
      const finishedOnB = new Set(events(joined.lines).filter((e) => e.type === 'finished').map((e) => e.rolloutId!));
      // A announces a rollout finished only after delivering its result, so its other slot may have
      // delivered one it had not announced yet when killed; the blocked one only B can finish.
      const rerun = cut.filter((id) => finishedOnB.has(id));
      assert.ok(rerun.length >= 1 && cut.length - rerun.length <= 1, `cut short on A: ${cut.join(', ')}; finished by B: ${rerun.join(', ')}`);
    } finally {
      await stopWorker(a, 'SIGKILL');
      if (b) await stopWorker(b);
    }
  });

  it('leaves what it spent counted: the worker that takes its job over adds it to the record', { timeout: 120_000 }, async () => {
    const config = RunConfig.parse({ envs: ['counter'], taskIds: ['counter/a'], model: 'oracle', epochs: 1, concurrency: 1, seed: 5, deadlineMs: BLOCKED_DEADLINE_MS });
    const store = openStore(':memory:');
    // A blocks inside its second (and last) tool call: two model calls and two tool calls made, saved with the job.
    const a = spawnWorker({ url: redis.url, concurrency: 1, env: { GAUNTLET_TEST_BLOCK_AT_CALL: '2' }, args: ['--save-spend-every', '0'] });
    const probe = await connectRedis(redis.target, { name: 'test-spend-probe' });
    let b: QueueWorker | undefined;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, queue: { redis: redis.target }, catalog: counterCatalog });
      const rolloutId = await blockedRollout(a);
      const job = `${QUEUE_PREFIX}:${rolloutQueueName('oracle')}:${rolloutId}`;
      const saved = { attempts: 1, modelCalls: 2, toolCalls: 2, promptTokens: 0, completionTokens: 0 };
      await until("A's spend saved with the job", async () => {
        const progress = await probe.hget(job, 'progress');
        return progress !== null && JSON.stringify((JSON.parse(progress) as { spent?: unknown }).spent) === JSON.stringify(saved) ? true : undefined;
      });
      a.child.kill('SIGKILL');
      await a.exited;
      b = await startWorker({ redis: redis.target, concurrency: 1, catalog: counterCatalog, lockMs: 1000 });
      const summary = await run.done;
      assert.equal(summary.passed, 1);
      const rollout = store.getRollout(rolloutId)!;
      // A's attempt never reached the store: B numbers its own after it.
      assert.equal(rollout.attempt, 2);
      const own = store.modelCalls(rolloutId).filter((c) => c.purpose !== 'judge' && c.purpose !== 'user');
      assert.ok(own.length > 0 && own.every((c) => c.attempt === 2));
      const ownTools = store.events(rolloutId).filter((e) => e.type === 'tool_call').length;
      assert.deepEqual(rollout.spent, { attempts: 2, modelCalls: 2 + own.length, toolCalls: 2 + ownTools, promptTokens: 0, completionTokens: 0 });
      assert.deepEqual(summary.spent, rollout.spent);
    } finally {
      probe.disconnect();
      await stopWorker(a, 'SIGKILL');
      await b?.close();
    }
  });

  it('has its rollout taken over within about --stall-timeout, well before twice it', { timeout: 120_000 }, async () => {
    const stallMs = 2000;
    const config = RunConfig.parse({ envs: ['counter'], model: 'oracle', epochs: 1, concurrency: 1, seed: 4, deadlineMs: BLOCKED_DEADLINE_MS });
    const store = openStore(':memory:');
    const a = spawnWorker({ url: redis.url, concurrency: 1, stallTimeoutS: stallMs / 1000, env: { GAUNTLET_TEST_BLOCK_AT_CALL: '1' } });
    const probe = await connectRedis(redis.target, { name: 'test-stall-probe' });
    let b: QueueWorker | undefined;
    try {
      const run = await startQueuedRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, queue: { redis: redis.target }, catalog: counterCatalog });
      const rolloutId = await blockedRollout(a);
      // Killed just as it renews its claim, with no stalled-job check in between: the claim then
      // lasts the longest, and the job is not yet marked as possibly stalled. Seeing that takes
      // two looks less than a check interval apart; a machine too busy for that within 15 s gets
      // A killed wherever it is, which can only make the takeover quicker than the worst case.
      const keys = `${QUEUE_PREFIX}:${rolloutQueueName('oracle')}`;
      let last = { lock: Infinity, check: Infinity };
      const lookUntil = Date.now() + 15_000;
      await until('A renewing its claim', async () => {
        const [[, lock], [, check]] = (await probe.pipeline().pttl(`${keys}:${rolloutId}:lock`).pttl(`${keys}:stalled-check`).exec()) as [[null, number], [null, number]];
        const renewed = lock > last.lock;
        const checked = check > last.check;
        last = { lock, check };
        return (renewed && !checked) || Date.now() > lookUntil ? true : undefined;
      });
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      let takenAt: number | undefined;
      b = await startWorker({
        redis: redis.target,
        concurrency: 3,
        catalog: counterCatalog,
        lockMs: stallMs,
        onEvent: (e: WorkerEvent) => void (e.type === 'started' && e.rolloutId === rolloutId && (takenAt ??= Date.now())),
      });
      const summary = await run.done;
      const rollouts = store.rollouts(summary.runId).map((r) => ({ id: r.id, status: r.status, passed: r.passed, attempt: r.attempt, error: r.error?.message }));
      assert.equal(summary.passed, 3, JSON.stringify({ summary, rollouts }));
      const tookMs = takenAt! - killedAt;
      // BullMQ's check marks a job and, a check later, takes it if its lock expired: with checks
      // every stall timeout, that took up to twice it (~4 s here). Now ~2-2.7 s; the margin is for a busy machine.
      assert.ok(tookMs < 1.9 * stallMs, `taken over ${tookMs} ms after its worker died (--stall-timeout ${stallMs} ms)`);
    } finally {
      probe.disconnect();
      await stopWorker(a, 'SIGKILL');
      await b?.close();
    }
  });
});

describe('Redis restarted mid-run', () => {
  for (const persist of [false, true]) {
    it(`completes with every rollout once (${persist ? 'data kept on disk' : 'all queue data lost'})`, { timeout: 120_000 }, async () => {
      const redis = await startRedis({ persist });
      const gate = gateCatalog({ tasks: 8, held: ['t5'] });
      const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 1 });
      const store = openStore(':memory:');
      const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, lockMs: 1000 });
      try {
        const events: CoordinatorEvent[] = [];
        const run = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
        await gate.holding;
        await until('4 results stored', () => (store.rollouts(run.run.id).length >= 4 ? true : undefined));
        await redis.restart();
        // The held rollout is still running; without its data Redis holds neither its job nor its result.
        if (persist) await until('the coordinator reconnected', () => (events.some((e) => e.type === 'reconnected') ? true : undefined));
        else await until('the lost job enqueued again', () => (events.some((e) => e.type === 'requeued') ? true : undefined));
        gate.release();
        const summary = await run.done;
        assertEachOnce(store, summary, 8, 2);
        if (!persist) assert.ok(summary.queue.requeued >= 1);
      } finally {
        await worker.close({ force: true });
        await redis.stop();
      }
    });
  }
});

describe('Redis gone for longer than the run allows', () => {
  it('stops the run as interrupted, naming Redis, and --resume finishes it once Redis is back', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const gate = gateCatalog({ tasks: 6, held: ['t2'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 6 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, lockMs: 1000 });
    try {
      const first = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, maxOutageMs: 300 }, catalog: gate.catalog });
      await gate.holding;
      await until('2 results stored', () => (store.rollouts(first.run.id).length >= 2 ? true : undefined));
      await redis.stop();
      const stopped = await first.done;
      assert.equal(stopped.status, 'interrupted');
      assert.match(stopped.failure ?? '', new RegExp(`Redis at ${redis.target.display.replace(/[/.]/g, '\\$&')} was unreachable for over 300 ms; resume with --resume ${first.run.id}`));
      assert.ok(stopped.missing >= 1);
      assert.equal(store.getRun(first.run.id)?.status, 'interrupted');
      await redis.restart();
      gate.release();
      const resumed = await startQueuedRun({ store, run: { resume: first.run.id }, queue: { redis: redis.target }, catalog: gate.catalog });
      assertEachOnce(store, await resumed.done, 6, 2);
    } finally {
      await worker.close({ force: true });
      await redis.stop();
    }
  });
});

describe('rollouts no worker can run', () => {
  it('end the run as interrupted, naming why, and --resume retries them once a worker can', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const gate = gateCatalog({ tasks: 3 });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 8 });
    const store = openStore(':memory:');
    // The coordinator loaded the environment from a module file; the worker was not given it.
    const moduleFile = '/srv/envs/gate.ts';
    registerEnvironment('gate', () => gate.catalog.get('gate'), { source: moduleFile });
    const lacking = { names: () => [], get: (name: string): never => { throw new InputError('environment', `unknown environment "${name}" on this worker`); } };
    let broken: QueueWorker | undefined = await startWorker({ redis: redis.target, concurrency: 2, catalog: lacking });
    try {
      const first = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, jobAttempts: 1 }, catalog: gate.catalog });
      assert.deepEqual(store.getRun(first.run.id)?.environmentFiles, { gate: moduleFile });
      const stopped = await first.done;
      assert.equal(stopped.status, 'interrupted');
      assert.equal(stopped.missing, 3);
      const why = `environment: unknown environment "gate" on this worker: the run loaded it from ${moduleFile} (expected the worker started with --env-module ${moduleFile}, or that file's path here in GAUNTLET_ENV_MODULES)`;
      assert.deepEqual(stopped.queue.failedJobs.map((f) => f.message), Array(3).fill(why));
      assert.equal(stopped.failure, `3 rollouts could not be run by any worker (first: ${why}); fix the workers and resume with --resume ${first.run.id}`);
      await broken.close();
      broken = undefined;
      const good = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
      try {
        const resumed = await startQueuedRun({ store, run: { resume: first.run.id }, queue: { redis: redis.target }, catalog: gate.catalog });
        assertEachOnce(store, await resumed.done, 3, 2);
      } finally {
        await good.close();
      }
    } finally {
      unregisterEnvironment('gate', moduleFile);
      await broken?.close();
      await redis.stop();
    }
  });
});

describe('rollouts stored as infra errors', () => {
  it('are run again by a resume with retryInfraErrors, each replaced once by its newer attempt', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    let down = true;
    const gate = gateCatalog({ tasks: 3, down: () => down });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 8, maxAttempts: 1 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
    try {
      const first = await (await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog })).done;
      assert.equal(first.infraErrors, 3);
      down = false;
      const plain = await (await startQueuedRun({ store, run: { resume: first.runId }, queue: { redis: redis.target }, catalog: gate.catalog })).done;
      assert.equal(plain.infraErrors, 3);
      const events: CoordinatorEvent[] = [];
      const retried = await startQueuedRun({ store, run: { resume: first.runId, retryInfraErrors: true }, queue: { redis: redis.target }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
      assertEachOnce(store, await retried.done, 3, 2);
      assert.deepEqual(events.filter((e) => e.type === 'duplicate'), []);
      for (const r of store.rollouts(first.runId)) assert.equal(r.attempt, 2, r.id);
    } finally {
      await worker.close();
      await redis.stop();
    }
  });
});

describe('a queued run whose rollouts all fail for their infrastructure', () => {
  it('stops once stopAfterInfraErrors of them in a row did, naming how to finish it', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const gate = gateCatalog({ tasks: 6, down: () => true });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 8, maxAttempts: 1, stopAfterInfraErrors: 2 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog });
    try {
      const summary = await (await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog })).done;
      assert.equal(summary.status, 'interrupted');
      assert.match(summary.failure ?? '', new RegExp(`^2 rollouts in a row ended as infra errors \\(the last: environment: the gate service is down\\); no more were started \\(stopAfterInfraErrors 2\\)\\. Once it works again, finish the run with --resume ${summary.runId} --retry-infra`));
    } finally {
      await worker.close({ force: true });
      await redis.stop();
    }
  });
});

describe('the metrics of a resume that retries infra errors', () => {
  it('count an infra_error record\'s spend once, in the processes that ran it, not again in those that replaced it', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    let broken = true;
    const gate = gateCatalog({ tasks: 2, broken: () => broken });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 2, seed: 8, maxAttempts: 1 });
    const store = openStore(':memory:');
    const workers = [await createMetrics('worker'), await createMetrics('worker')];
    const coordinators = [await createMetrics('run'), await createMetrics('run')];
    let worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, onRollout: workers[0]!.onRollout });
    try {
      const first = await (await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog, onRollout: coordinators[0]!.onRollout })).done;
      assert.equal(first.infraErrors, 2);
      for (const r of store.rollouts(first.runId)) assert.ok(r.spent!.modelCalls > 0, `${r.id} spent model calls before it broke`);
      await worker.close();
      broken = false;
      worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, onRollout: workers[1]!.onRollout });
      const retried = await (await startQueuedRun({ store, run: { resume: first.runId, retryInfraErrors: true }, queue: { redis: redis.target }, catalog: gate.catalog, onRollout: coordinators[1]!.onRollout })).done;
      assert.equal(retried.scored, 2, retried.failure);
      const spent = store.runSpend(first.runId);
      assert.equal(spent.attempts, 4);
      // Workers and coordinator each count every rollout once (dashboards pick a side): each side adds up to the run's spend.
      for (const [side, registries] of [['workers', workers], ['coordinators', coordinators]] as const) {
        const scrapes = await Promise.all(registries.map(async (m) => scraped((await m.scrape()).body)));
        for (const [metric, field] of [['gauntlet_model_calls_total', 'modelCalls'], ['gauntlet_tool_calls_total', 'toolCalls']] as const) {
          assert.equal(scrapes[0]!.sum(metric) + scrapes[1]!.sum(metric), spent[field], `${metric} over both ${side}`);
        }
      }
    } finally {
      await worker.close();
      await redis.stop();
    }
  });
});

describe('the coordinator stopped and resumed', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('stores the results workers finished meanwhile without running them again, and runs the rest', { timeout: 120_000 }, async () => {
    const gate = gateCatalog({ tasks: 6, held: ['t1'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 2, concurrency: 1, seed: 9 });
    const store = openStore(':memory:');
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
    try {
      const stop = new AbortController();
      const first = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog, signal: stop.signal });
      await gate.holding;
      await until('2 results stored', () => (store.rollouts(first.run.id).length >= 2 ? true : undefined));
      stop.abort();
      const interrupted = await first.done;
      assert.equal(interrupted.status, 'interrupted');
      assert.ok(interrupted.missing > 0);
      const stored = interrupted.rollouts;
      // The held rollout finishes while no coordinator listens: its result waits in Redis.
      gate.release();
      const results = new Queue(`results-${first.run.id}`, { connection: { host: redis.target.host, port: redis.target.port }, prefix: 'gauntlet' });
      await until('the held rollout\'s result waiting in Redis', async () => ((await results.getWaitingCount()) >= 1 ? true : undefined));
      await results.close();
      const events: CoordinatorEvent[] = [];
      const resumed = await startQueuedRun({ store, run: { resume: first.run.id }, queue: { redis: redis.target }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
      const summary = await resumed.done;
      assertEachOnce(store, summary, 12, 2);
      assert.ok(summary.rollouts > stored);
      // What was waiting in Redis is reported apart from what was enqueued again.
      const enqueued = events.find((e) => e.type === 'enqueued');
      assert.ok(enqueued?.type === 'enqueued');
      assert.ok(enqueued.alreadyQueued >= 1, `${enqueued.alreadyQueued} already queued`);
      assert.equal(enqueued.count + enqueued.alreadyQueued, 12 - stored);
      // t1 of epoch 0 ran once: its waiting result was stored, not run again.
      assert.equal(gate.starts.get('t1'), 2, 'the held task ran once per epoch');
    } finally {
      await worker.close({ force: true });
    }
  });
});

describe('stopped while Redis is down', () => {
  const cli = fileURLToPath(new URL('../bin/gauntlet.js', import.meta.url));

  it('a coordinator interrupted then exits after its bounded waits, with no unhandled Redis errors', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-queue-outage-')), 'store.sqlite');
    const task = getEnvironment('mail').tasks()[0]!.id;
    // No worker: the rollouts stay outstanding.
    const coordinator = spawn(process.execPath, [cli, 'run', '--env', 'mail', '--task', task, '--model', 'oracle', '--epochs', '3', '--queue', redis.url, '--store', store, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GAUNTLET_CLI_SOURCES: '1' },
    });
    let out = '';
    let err = '';
    coordinator.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    coordinator.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    // 'close': exited, with everything it wrote read.
    let exited = false;
    coordinator.once('close', () => (exited = true));
    try {
      await until('the rollouts enqueued', () => (err.includes('rollouts enqueued') ? true : undefined));
      await redis.stop();
      await until('the outage noticed', () => (err.includes('lost the connection') ? true : undefined));
      coordinator.kill('SIGINT');
      await until('the coordinator exited', () => (exited ? true : undefined), 30_000);
      assert.equal((JSON.parse(out) as { status: string }).status, 'interrupted');
      assert.doesNotMatch(err, /Unhandled error event/);
    } finally {
      if (!exited) coordinator.kill('SIGKILL');
      await redis.stop();
    }
  });

  it('an idle worker stopped then exits after its bounded close, with no unhandled Redis errors', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const registry = await connectRedis(redis.target, { name: 'test-registry' });
    await registry.hset(REGISTRY_KEY, rolloutQueueName('oracle'), 'oracle');
    registry.disconnect();
    const worker = spawnWorker({ url: redis.url, concurrency: 2 });
    let exited = false;
    worker.child.once('close', () => (exited = true));
    try {
      await until('the worker serving', () => (worker.lines.some((l) => l.includes('"serving"')) ? true : undefined));
      await redis.stop();
      // An idle BullMQ worker waits for jobs in a blocking call of at most 5 s, abandons it a second
      // after that, and then waits for Redis to come back: only an outage that long catches it there.
      const downAt = Date.now();
      await until('Redis down for longer than the blocking wait', () => (Date.now() - downAt > 8000 ? true : undefined));
      worker.child.kill('SIGTERM');
      await until('the worker exited', () => (exited ? true : undefined), 30_000);
      assert.ok(worker.lines.some((l) => /worker .*: stopped/.test(l)), worker.lines.join('\n'));
      assert.ok(!worker.lines.some((l) => l.includes('Unhandled error event')), worker.lines.join('\n'));
    } finally {
      await stopWorker(worker, 'SIGKILL');
      await redis.stop();
    }
  });
});
