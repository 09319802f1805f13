// `gauntlet queue status` and `queue cancel`: what a live Redis queue holds, read from a private
// redis-server while coordinators and workers use it; the status command's three outputs; and a
// killed coordinator's rollouts taken off the queue, then run by --resume.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Command } from 'commander';
import { Redis as IORedis } from 'ioredis';
import { registerQueueCommand } from '../src/cli/commands/queue.ts';
import type { CliIo } from '../src/cli/io.ts';
import { InputError, RunConfig } from '../src/core/index.ts';
import { cancelQueuedRun, describeQueueStatus, parseRedisUrl, queueStatus, queueStatusMetrics, rolloutQueueName, startQueuedRun, startWorker, type QueueStatus, type QueueWorker } from '../src/runner/queue/index.ts';
import { QUEUE_PREFIX, REGISTRY_KEY } from '../src/runner/queue/connection.ts';
import { getEnvironment } from '../src/envs/index.ts';
import { resolveRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { gateCatalog, startRedis, until } from './queue-support.ts';

function captureIo(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

async function command(args: string[]): Promise<string> {
  const io = captureIo();
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerQueueCommand(program, io);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  await program.parseAsync(['node', 'gauntlet', 'queue', ...args]);
  return io.out;
}

describe('gauntlet queue status', () => {
  it('shows work nobody serves, then the worker and the rollout it runs, then results no coordinator takes', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const gate = gateCatalog({ tasks: 3, held: ['t0', 't1', 't2'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 4 });
    const stop = new AbortController();
    let worker: QueueWorker | undefined;
    try {
      const empty = await queueStatus({ redis: redis.target });
      assert.deepEqual({ endpoints: empty.endpoints, runs: empty.runs, problems: empty.problems }, { endpoints: [], runs: [], problems: [] });
      assert.match(describeQueueStatus(empty), /no model endpoint queues/);

      const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, rateLimit: { max: 100, durationMs: 60_000 } }, catalog: gate.catalog, signal: stop.signal });
      const waiting = await until('3 rollouts waiting', async () => {
        const status = await queueStatus({ redis: redis.target });
        return status.endpoints[0]?.counts.waiting === 3 ? status : undefined;
      });
      const [endpoint] = waiting.endpoints;
      assert.equal(endpoint!.endpoint, 'oracle');
      assert.deepEqual(endpoint!.counts, { waiting: 3, active: 0, delayed: 0, failed: 0 });
      assert.deepEqual(endpoint!.rateLimit, { max: 100, durationMs: 60_000 });
      assert.deepEqual(endpoint!.workers, []);
      assert.ok(endpoint!.oldestWaitingMs !== null && endpoint!.oldestWaitingMs >= 0);
      assert.deepEqual(waiting.runs, [{ runId: run.run.id, queue: `results-${run.run.id}`, waiting: 0, coordinator: true }]);
      assert.deepEqual(waiting.problems, [`${endpoint!.queue} (oracle): 3 rollouts wait and no worker serves this queue; start one with \`gauntlet worker --queue URL\``]);

      worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, name: 'status-worker', spendSaveMs: 0 });
      await gate.holding;
      const running = await until('one rollout running', async () => {
        const status = await queueStatus({ redis: redis.target });
        return status.endpoints[0]?.counts.active === 1 ? status : undefined;
      });
      const served = running.endpoints[0]!;
      assert.deepEqual(served.counts, { waiting: 2, active: 1, delayed: 0, failed: 0 });
      assert.deepEqual(served.workers.map((w) => w.name), ['status-worker']);
      const [active] = served.active;
      assert.equal(active!.runId, run.run.id);
      assert.equal(active!.worker, 'status-worker');
      assert.equal(active!.attempt, 1);
      assert.ok(gate.starts.has(active!.taskId!.slice('gate/'.length)), `the running rollout is the one the worker started: ${active!.taskId}`);
      assert.deepEqual(running.problems, []);
      const text = describeQueueStatus(running);
      assert.match(text, /rollouts: 2 waiting, 1 running, 0 waiting to retry, 0 failed/);
      assert.match(text, new RegExp(`running ${active!.rolloutId} ${active!.taskId} #0 of run ${run.run.id} on status-worker for \\d+ s`));
      assert.match(text, /workers: status-worker from 127\.0\.0\.1:\d+/);
      assert.match(text, /rate limit: 100 per 60 s/);
      // What the held rollout spent before its mark: one model call and its tool call, saved with the job.
      const saved = await until('the running rollout\'s spend saved', async () => (await queueStatus({ redis: redis.target })).endpoints[0]?.active[0]?.spent ?? undefined);
      assert.deepEqual(saved, { attempts: 1, modelCalls: 1, toolCalls: 1, promptTokens: 0, completionTokens: 0 });
      assert.match(describeQueueStatus(await queueStatus({ redis: redis.target })), /running .* for \d+ s; so far 1 model call, 0 tokens/);
      const metrics = queueStatusMetrics(running);
      assert.match(metrics, new RegExp(`^gauntlet_queue_rollouts\\{queue="${served.queue}",endpoint="oracle",state="waiting"\\} 2$`, 'm'));
      assert.match(metrics, /^gauntlet_queue_workers\{queue="rollouts-[0-9a-f]+",endpoint="oracle"\} 1$/m);
      assert.match(metrics, new RegExp(`^gauntlet_run_coordinator_connected\\{run="${run.run.id}"\\} 1$`, 'm'));

      // The coordinator stops (taking back the jobs not started); what the worker finishes then waits in Redis for a --resume.
      stop.abort();
      assert.equal((await run.done).status, 'interrupted');
      gate.release();
      const orphaned = await until('results waiting with no coordinator', async () => {
        const status = await queueStatus({ redis: redis.target });
        return status.runs[0] && !status.runs[0].coordinator && status.runs[0].waiting === 1 ? status : undefined;
      });
      assert.deepEqual(orphaned.problems, [`run ${run.run.id}: 1 result waits and no coordinator takes them; \`gauntlet run --resume ${run.run.id} --queue URL\` stores them`]);
    } finally {
      await worker?.close({ force: true });
      await redis.stop();
    }
  });

  it('lists the jobs that failed every try with why, and prints JSON or Prometheus text', { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const gate = gateCatalog({ tasks: 2 });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 6 });
    const lacking = { names: () => [], get: (name: string): never => { throw new InputError('environment', `unknown environment "${name}" on this worker`); } };
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: lacking, name: 'lacking' });
    try {
      const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, jobAttempts: 1 }, catalog: gate.catalog });
      assert.equal((await run.done).status, 'interrupted');
      const status = JSON.parse(await command(['status', '--queue', redis.url, '--json'])) as QueueStatus;
      const [endpoint] = status.endpoints;
      assert.equal(endpoint!.counts.failed, 2);
      assert.deepEqual(endpoint!.failed.map((f) => [f.runId, f.reason, f.attempts]), [
        [run.run.id, 'environment: unknown environment "gate" on this worker', 1],
        [run.run.id, 'environment: unknown environment "gate" on this worker', 1],
      ]);
      assert.deepEqual(endpoint!.failed.map((f) => f.taskId).sort(), ['gate/t0', 'gate/t1']);
      assert.ok(endpoint!.failed.every((f) => f.failedAt !== null && !Number.isNaN(Date.parse(f.failedAt))));
      assert.deepEqual(status.problems, [`${endpoint!.queue} (oracle): 2 rollout jobs failed every try (kept a week); \`gauntlet run --resume RUN_ID --queue URL\` tries them again`]);

      const limited = await command(['status', '--queue', redis.url, '--limit', '1']);
      assert.match(limited, /rollouts: 0 waiting, 0 running, 0 waiting to retry, 2 failed/);
      assert.equal(limited.match(/^ {2}failed /gm)?.length, 1);
      assert.match(limited, /… and 1 more failed/);
      assert.match(limited, /problems:\n {2}- rollouts-[0-9a-f]+ \(oracle\): 2 rollout jobs failed every try/);

      const metrics = await command(['status', '--queue', redis.url, '--prometheus']);
      assert.match(metrics, /^# TYPE gauntlet_queue_rollouts gauge$/m);
      assert.match(metrics, /^gauntlet_queue_rollouts\{queue="rollouts-[0-9a-f]+",endpoint="oracle",state="failed"\} 2$/m);
      assert.match(metrics, /^gauntlet_queue_workers\{queue="rollouts-[0-9a-f]+",endpoint="oracle"\} 1$/m);
      await assert.rejects(command(['status', '--queue', redis.url, '--json', '--prometheus']), (e: unknown) => e instanceof InputError && e.where === '--prometheus');
    } finally {
      await worker.close({ force: true });
      await redis.stop();
    }
  });

  it("never stores a worker's API key in a failure message", { timeout: 120_000 }, async () => {
    const redis = await startRedis();
    const secret = 'sk-queue-secret-4242';
    const gate = gateCatalog({ tasks: 1 });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 7 });
    const leaky = { names: () => [], get: (): never => { throw new Error(`cannot reach the environment service with key ${secret}`); } };
    const worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: leaky, modelEnvironment: { env: { OPENAI_API_KEY: secret } } });
    try {
      const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, jobAttempts: 1 }, catalog: gate.catalog });
      const summary = await run.done;
      assert.equal(summary.queue.failedJobs[0]?.message, 'cannot reach the environment service with key ***');
      const status = await queueStatus({ redis: redis.target });
      assert.equal(status.endpoints[0]!.failed[0]?.reason, 'cannot reach the environment service with key ***');
      assert.ok(!JSON.stringify(status).includes(secret));
    } finally {
      await worker.close({ force: true });
      await redis.stop();
    }
  });

  it('names the Redis it cannot reach', async () => {
    await assert.rejects(queueStatus({ redis: parseRedisUrl('redis://127.0.0.1:1') }), /queue redis:\/\/127\.0\.0\.1:1\/0: cannot connect/);
  });
});

describe('gauntlet queue cancel', () => {
  it("takes a dead coordinator's waiting rollouts off the queue, leaves other runs' alone, and --resume runs them again", { timeout: 180_000 }, async () => {
    const redis = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-cancel-'));
    const store = join(dir, 'store.sqlite');
    const task = getEnvironment('mail').tasks()[0]!.id;
    // Another run on the same endpoint, its coordinator alive in this process.
    const live = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: await resolveRun({ envs: ['mail'], taskIds: [task], model: 'oracle', epochs: 2, concurrency: 1, seed: 1 }) }, queue: { redis: redis.target } });
    const coordinator = spawn(process.execPath, ['bin/gauntlet.js', 'run', '--env', 'mail', '--task', task, '--model', 'oracle', '--epochs', '4', '--seed', '2', '--queue', redis.url, '--store', store], { stdio: 'ignore' });
    let worker: QueueWorker | undefined;
    try {
      const orphan = await until('the second run enqueued', async () => {
        const status = await queueStatus({ redis: redis.target });
        return status.endpoints[0]?.counts.waiting === 6 ? status.runs.find((r) => r.runId !== live.run.id) : undefined;
      });
      await assert.rejects(cancelQueuedRun({ redis: redis.target, runId: live.run.id }), (e: unknown) => e instanceof InputError && /has a coordinator connected/.test(e.message));
      coordinator.kill('SIGKILL');
      await until('the killed coordinator gone from Redis', async () => ((await queueStatus({ redis: redis.target })).runs.some((r) => r.runId === orphan!.runId && r.coordinator) ? undefined : true));

      const out = await command(['cancel', orphan!.runId, '--queue', redis.url]);
      assert.equal(out, `run ${orphan!.runId}: 4 rollouts taken off the queue\n`);
      const after = await queueStatus({ redis: redis.target });
      assert.equal(after.endpoints[0]!.counts.waiting, 2, "the live run's rollouts stay");
      const again = JSON.parse(await command(['cancel', orphan!.runId, '--queue', redis.url, '--json'])) as { removed: number; running: number };
      assert.deepEqual({ removed: again.removed, running: again.running }, { removed: 0, running: 0 });

      worker = await startWorker({ redis: redis.target, concurrency: 2 });
      assert.equal((await live.done).scored, 2);
      const stored = openStore(store);
      const resumed = await startQueuedRun({ store: stored, run: { resume: orphan!.runId }, queue: { redis: redis.target } });
      const summary = await resumed.done;
      assert.deepEqual({ scored: summary.scored, status: summary.status }, { scored: 4, status: 'finished' });
      assert.deepEqual(stored.rollouts(orphan!.runId).map((r) => r.epoch).sort(), [0, 1, 2, 3], 'each rollout stored once');
      stored.close();
    } finally {
      coordinator.kill('SIGKILL');
      await worker?.close({ force: true });
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds a run's jobs by their name, and those that earlier versions named `rollout` by their payload", { timeout: 60_000 }, async () => {
    const redis = await startRedis();
    const client = new IORedis(redis.url, { maxRetriesPerRequest: null });
    const endpoint = 'http://model.example/v1#m';
    const queue = new Queue(rolloutQueueName(endpoint), { connection: client, prefix: QUEUE_PREFIX });
    try {
      await client.hset(REGISTRY_KEY, rolloutQueueName(endpoint), endpoint);
      // Named for their run: the payload is never read (these carry none that says the run).
      await queue.add('rollout:run_a', { note: 'named' }, { jobId: 'ro_named_a' });
      await queue.add('rollout:run_b', { note: 'named' }, { jobId: 'ro_named_b' });
      // As earlier versions named them: the payload says the run.
      await queue.add('rollout', { runId: 'run_a' }, { jobId: 'ro_old_a' });
      await queue.add('rollout', { runId: 'run_b' }, { jobId: 'ro_old_b' });
      await queue.add('rollout:run_a', { note: 'delayed' }, { jobId: 'ro_later_a', delay: 60_000 });
      const cancelled = await cancelQueuedRun({ redis: redis.target, runId: 'run_a', pageSize: 2 });
      assert.deepEqual({ removed: cancelled.removed, running: cancelled.running }, { removed: 3, running: 0 });
      assert.deepEqual((await queue.getRanges(['waiting', 'delayed'])).sort(), ['ro_named_b', 'ro_old_b']);
    } finally {
      await queue.close();
      client.disconnect();
      await redis.stop();
    }
  });

  it('refuses a run id that cannot be one, by name', async () => {
    await assert.rejects(cancelQueuedRun({ redis: parseRedisUrl('redis://127.0.0.1:1'), runId: 'a:b' }), (e: unknown) => e instanceof InputError && e.where === 'RUN_ID');
  });
});
