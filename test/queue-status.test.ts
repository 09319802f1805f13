// `gauntlet queue status`: what a live Redis queue holds, read from a private redis-server while a
// coordinator and a worker use it; and the command's three outputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerQueueCommand } from '../src/cli/commands/queue.ts';
import type { CliIo } from '../src/cli/io.ts';
import { InputError, RunConfig } from '../src/core/index.ts';
import { describeQueueStatus, parseRedisUrl, queueStatus, queueStatusMetrics, startQueuedRun, startWorker, type QueueStatus, type QueueWorker } from '../src/runner/queue/index.ts';
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

      worker = await startWorker({ redis: redis.target, concurrency: 1, catalog: gate.catalog, name: 'status-worker' });
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

  it('names the Redis it cannot reach', async () => {
    await assert.rejects(queueStatus({ redis: parseRedisUrl('redis://127.0.0.1:1') }), /queue redis:\/\/127\.0\.0\.1:1\/0: cannot connect/);
  });
});
