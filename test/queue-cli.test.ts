// `gauntlet worker` as a command (a fresh commander program), and the settings it and `run --queue`
// read: Redis URLs and rate limits, each wrong one named with what was expected.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { describeCoordinatorEvent, registerWorkerCommand } from '../src/cli/commands/worker.ts';
import type { CoordinatorEvent } from '../src/runner/queue/index.ts';
import type { CliIo } from '../src/cli/io.ts';
import { InputError, RunConfig } from '../src/core/index.ts';
import { getEnvironment } from '../src/envs/index.ts';
import { resolveRun } from '../src/runner/index.ts';
import { parseRateLimit, parseRedisUrl, queueStatus, rolloutQueueName, startQueuedRun, startWorker, type WorkerEvent } from '../src/runner/queue/index.ts';
import { connectRedis, REGISTRY_KEY } from '../src/runner/queue/connection.ts';
import { openStore } from '../src/store/index.ts';
import { agentSpec } from '../src/training/agents/index.ts';
import { gateCatalog, startRedis, until, type RedisServer } from './queue-support.ts';

function captureIo(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

function program(io: CliIo, untilStopped?: () => Promise<'graceful' | 'force'>): Command {
  const p = new Command('gauntlet').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerWorkerCommand(p, io, untilStopped ? { untilStopped } : {});
  for (const c of p.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return p;
}

/** The error a command failed with, unwrapped from commander's wrapping of option parsers. */
async function failure(args: string[]): Promise<Error> {
  try {
    await program(captureIo()).parseAsync(['node', 'gauntlet', 'worker', ...args]);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return (cause instanceof InputError ? cause : error) as Error;
  }
  throw new Error('the command did not fail');
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('queue settings', () => {
  it('reads Redis URLs with a database, credentials and TLS, and never prints the password', () => {
    const target = parseRedisUrl('rediss://worker:s3cret@queue.example:6380/2');
    assert.deepEqual({ ...target }, { host: 'queue.example', port: 6380, db: 2, username: 'worker', password: 's3cret', tls: true, display: 'rediss://worker@queue.example:6380/2', where: '--queue' });
    assert.equal(parseRedisUrl('redis://127.0.0.1').port, 6379);
    for (const [bad, problem] of [
      ['http://127.0.0.1:6379', /"http:" is not a Redis scheme/],
      ['127.0.0.1:6379', /not a Redis scheme|is not a URL/],
      ['redis://h:1/x', /"\/x" is not a database number/],
      ['redis://h:1/0?tls=1', /query strings/],
    ] as const) {
      assert.throws(() => parseRedisUrl(bad), (e: unknown) => e instanceof InputError && e.where === '--queue' && problem.test(e.message) && /expected redis:\/\//.test(e.message));
    }
  });

  it('never prints the credentials of a URL too broken to parse', () => {
    for (const [bad, shown] of [
      ['redis://:hunter2pw@127.0.0.1:99999', 'redis://***@127.0.0.1:99999'],
      [' redis://worker:hunter2pw@[::1 ', 'redis://***@[::1'],
      ['redis://:hun@ter2pw@127.0.0.1:99999', 'redis://***@127.0.0.1:99999'],
      [':hunter2pw@127.0.0.1:99999', '***@127.0.0.1:99999'],
    ] as const) {
      assert.throws(
        () => parseRedisUrl(bad),
        (e: unknown) => e instanceof InputError && e.where === '--queue' && e.message.startsWith(`--queue: "${shown}" is not a URL`) && !/hunter2pw|ter2pw|worker/.test(e.message),
      );
    }
  });

  it('never prints a password holding an unencoded "/", which parses as a port and a path', () => {
    assert.throws(
      () => parseRedisUrl('redis://worker:12/hunter2pw@127.0.0.1:6379'),
      (e: unknown) => e instanceof InputError && e.where === '--queue' && e.message.includes('"redis://***@127.0.0.1:6379"') && /percent-encoded/.test(e.message) && !/hunter2pw|ter2pw/.test(e.message),
    );
  });

  it('reads rate limits per unit or per duration, and off', () => {
    assert.deepEqual(parseRateLimit('60/min'), { max: 60, durationMs: 60_000 });
    assert.deepEqual(parseRateLimit('5/s'), { max: 5, durationMs: 1000 });
    assert.deepEqual(parseRateLimit('100/30s'), { max: 100, durationMs: 30_000 });
    assert.deepEqual(parseRateLimit('3 / 1.5 h'), { max: 3, durationMs: 5_400_000 });
    assert.equal(parseRateLimit('off'), null);
    for (const bad of ['60', 'fast', '60/fortnight', '0/s', '5/0s']) assert.throws(() => parseRateLimit(bad), (e: unknown) => e instanceof InputError && e.where === '--rate-limit');
  });
});

describe('what run --queue prints', () => {
  it('describes each queue event in one line', () => {
    assert.equal(
      describeCoordinatorEvent({ type: 'enqueued', count: 12, alreadyQueued: 0, queue: 'rollouts-ab', endpoint: 'oracle', rateLimit: { max: 60, durationMs: 60_000 } }),
      'queue: 12 rollouts enqueued on rollouts-ab (oracle, rate limit 60 per 60000 ms); start workers with `gauntlet worker --queue URL`',
    );
    assert.equal(
      describeCoordinatorEvent({ type: 'enqueued', count: 3, alreadyQueued: 5, queue: 'rollouts-ab', endpoint: 'oracle', rateLimit: null }),
      'queue: 3 rollouts enqueued on rollouts-ab (oracle); 5 more already in Redis (jobs or results waiting); start workers with `gauntlet worker --queue URL`',
    );
    assert.equal(describeCoordinatorEvent({ type: 'duplicate', rolloutId: 'ro_1', attempt: 1, storedAttempt: 1, worker: 'h:1' }), 'queue: ro_1 delivered again by h:1 (attempt 1; stored attempt 1): dropped');
    assert.equal(describeCoordinatorEvent({ type: 'job_failed', rolloutId: 'ro_2', message: 'no key\u001b[2J' }), 'queue: no worker could run ro_2: no key\\x1b[2J');
    assert.equal(describeCoordinatorEvent({ type: 'result_unreadable', rolloutId: 'ro_3', message: 'not JSON' }), 'queue: the result of ro_3 could not be read: not JSON');
    assert.equal(describeCoordinatorEvent({ type: 'workers', queue: 'rollouts-ab', count: 0, outstanding: 7 }), 'queue: no worker serves rollouts-ab, and 7 rollouts are outstanding; start one with `gauntlet worker --queue URL`');
    assert.equal(describeCoordinatorEvent({ type: 'workers', queue: 'rollouts-ab', count: 1, outstanding: 7 }), 'queue: 1 worker serving rollouts-ab (7 rollouts outstanding)');
  });
});

describe('gauntlet worker', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('rejects a bad --queue and --concurrency by name', async () => {
    const url = await failure(['--queue', 'http://127.0.0.1:1']);
    assert.ok(url instanceof InputError && url.where === '--queue', url.message);
    const concurrency = await failure(['--queue', redis.url, '--concurrency', '0']);
    assert.ok(concurrency instanceof InputError && concurrency.where === '--concurrency', concurrency.message);
  });

  it('says which Redis it cannot reach', async () => {
    const port = await closedPort();
    const error = await failure(['--queue', `redis://127.0.0.1:${port}`]);
    assert.match(error.message, new RegExp(`queue redis://127\\.0\\.0\\.1:${port}/0: cannot connect \\(connect ECONNREFUSED`));
  });

  it('names --queue and the database when the server lacks it, instead of using database 0', { timeout: 60_000 }, async () => {
    const missing = parseRedisUrl(`${redis.url}/99`);
    const refused = (e: unknown) =>
      e instanceof InputError && e.where === '--queue' && e.message.includes(`${missing.display}: the server refuses database 99`) && /expected a database from 0 to \d+\)$/.test(e.message);
    await assert.rejects(queueStatus({ redis: missing }), refused);
    const store = openStore(':memory:');
    const resolved = await resolveRun({ envs: ['mail'], taskIds: [getEnvironment('mail').tasks()[0]!.id], model: 'oracle', epochs: 1, concurrency: 1, seed: 5 });
    await assert.rejects(startQueuedRun({ store, run: { resolved }, queue: { redis: missing } }), refused);
    assert.deepEqual(store.listRuns(), [], 'no run left behind');
    const worker = await failure(['--queue', `${redis.url}/99`]);
    assert.ok(refused(worker), worker.message);
    // A database the server has is used, not database 0.
    const other = await connectRedis(parseRedisUrl(`${redis.url}/3`), { name: 'test-db-3' });
    const zero = await connectRedis(redis.target, { name: 'test-db-0' });
    try {
      await other.set('test:which-db', '3');
      assert.equal(await zero.get('test:which-db'), null);
    } finally {
      other.disconnect();
      zero.disconnect();
    }
  });

  it('runs enqueued rollouts and reports each as a JSON line', { timeout: 60_000 }, async () => {
    const io = captureIo();
    const taskIds = getEnvironment('mail').tasks().slice(0, 2).map((t) => t.id);
    const resolved = await resolveRun({ envs: ['mail'], taskIds, model: 'oracle', epochs: 1, concurrency: 1, seed: 5 });
    let finish: () => void = () => {};
    const stopped = new Promise<'graceful'>((resolve) => (finish = () => resolve('graceful')));
    const command = program(io, () => stopped).parseAsync(['node', 'gauntlet', 'worker', '--queue', redis.url, '--concurrency', '2', '--json']);
    const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved }, queue: { redis: redis.target } });
    const summary = await run.done;
    assert.equal(summary.passed, 2);
    await until('both finishes reported', () => (io.out.split('\n').filter((l) => l.includes('"finished"')).length === 2 ? true : undefined));
    finish();
    await command;
    const events = io.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    assert.deepEqual(events.map((e) => e.type).sort(), ['finished', 'finished', 'serving', 'started', 'started']);
    assert.ok(events.filter((e) => e.type === 'finished').every((e) => e.status === 'scored'));
    assert.match(io.err, /taking rollouts from redis:\/\/127\.0\.0\.1:\d+\/0 \(concurrency 2\)[\s\S]*stopped/);
  });

  it('stops by itself once there is nothing to run, with --exit-when-idle', { timeout: 60_000 }, async () => {
    const io = captureIo();
    const gate = gateCatalog({ tasks: 2, held: ['t0'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 10 });
    const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
    // A CLI worker beside it, never signalled: only idleness can stop it.
    let stopped = false;
    const command = program(io, () => new Promise<never>(() => {}))
      .parseAsync(['node', 'gauntlet', 'worker', '--queue', redis.url, '--exit-when-idle', '0.3'])
      .then(() => (stopped = true));
    try {
      await gate.holding;
      assert.equal(stopped, false, 'stopped while a rollout was still running');
      gate.release();
      assert.equal((await run.done).passed, 2);
      await command;
      assert.match(io.err, /nothing to run for 0\.3 s; stopping[\s\S]*stopped/);
    } finally {
      await worker.close();
    }
  });

  it('is idle only once nothing has waited or run for the whole time asked, however long a rollout runs', { timeout: 60_000 }, async () => {
    const gate = gateCatalog({ tasks: 2, held: ['t0'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 11 });
    // The worker's clock, moved by the test: idleness is judged by it.
    let clock = 1_000_000;
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, now: () => clock });
    try {
      const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog });
      const looks: number[] = [];
      let idle = false;
      const idleness = worker.whenIdle(300, { checkMs: 10, onCheck: (pending) => looks.push(pending) }).then(() => (idle = true));
      await gate.holding;
      await until('a look that sees the held rollout', () => (looks.at(-1)! > 0 ? true : undefined));
      const before = looks.length;
      clock += 1000; // far past the time asked, with the rollout still running
      await until('two more looks', () => (looks.length >= before + 2 ? true : undefined));
      assert.equal(idle, false, 'idle while a rollout was running');
      assert.ok(looks.slice(before).every((pending) => pending > 0), `looks: ${looks.slice(before).join(',')}`);
      gate.release();
      assert.equal((await run.done).passed, 2);
      await until('a look that finds nothing', () => (looks.at(-1) === 0 ? true : undefined));
      clock += 1000;
      await idleness;
    } finally {
      await worker.close();
    }
  });

  it('tells the coordinator when no worker serves its rollouts, and when one comes', { timeout: 60_000 }, async () => {
    // Held until the worker has been reported, so the run cannot end before the coordinator looks.
    const gate = gateCatalog({ tasks: 2, held: ['t0', 't1'] });
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 9 });
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target, checkMs: 50 }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    await until('no worker reported', () => (events.some((e) => e.type === 'workers' && e.count === 0 && e.outstanding === 2) ? true : undefined));
    const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog });
    try {
      await until('the worker reported', () => (events.some((e) => e.type === 'workers' && e.count === 1) ? true : undefined));
      gate.release();
      assert.equal((await run.done).passed, 2);
    } finally {
      await worker.close();
    }
  });

  it('fails the jobs of an external agent\'s run on a worker started without external agents, saying so, never a score', { timeout: 60_000 }, async () => {
    const resolved = await resolveRun({ envs: ['coding'], taskIds: ['coding/inventory-pagination'], model: 'openai:http://127.0.0.1:9/v1#m', agent: { name: 'pi', version: agentSpec('pi').version }, epochs: 1, concurrency: 1, seed: 5 });
    const worker = await startWorker({ redis: redis.target, concurrency: 1 });
    try {
      const run = await startQueuedRun({ store: openStore(':memory:'), run: { resolved }, queue: { redis: redis.target } });
      const summary = await run.done;
      assert.equal(summary.scored, 0);
      assert.equal(summary.queue.failedJobs.length, 1);
      assert.match(summary.queue.failedJobs[0]!.message, /plays episodes with the external agent pi, and this worker was started without external agents/);
    } finally {
      await worker.close();
    }
  });
});

describe('a Redis that requires a password', () => {
  const password = 'pw-Zq81/x';
  let redis: RedisServer;
  before(async () => (redis = await startRedis({ password })));
  after(async () => redis?.stop());

  it('names --queue when the URL gives no password or a wrong one, without printing it, and leaves no run behind', { timeout: 60_000 }, async () => {
    const bare = `redis://127.0.0.1:${redis.port}`;
    const missing = await failure(['--queue', bare]);
    assert.ok(missing instanceof InputError && missing.where === '--queue', missing.message);
    assert.match(missing.message, new RegExp(`${bare}/0: the server requires a password and the URL gives none \\(NOAUTH`));
    const wrong = await failure(['--queue', `redis://ops:${encodeURIComponent(`not-the-${password}`)}@127.0.0.1:${redis.port}`]);
    assert.ok(wrong instanceof InputError && wrong.where === '--queue', wrong.message);
    assert.match(wrong.message, new RegExp(`redis://ops@127\\.0\\.0\\.1:${redis.port}/0: the server refuses the URL's user and password \\(WRONGPASS`));
    assert.equal(wrong.message.includes('not-the-'), false, 'the wrong password is not printed');
    const store = openStore(':memory:');
    const resolved = await resolveRun({ envs: ['mail'], taskIds: [getEnvironment('mail').tasks()[0]!.id], model: 'oracle', epochs: 1, concurrency: 1, seed: 5 });
    await assert.rejects(startQueuedRun({ store, run: { resolved }, queue: { redis: parseRedisUrl(bare) } }), (e: unknown) => e instanceof InputError && e.where === '--queue');
    assert.deepEqual(store.listRuns(), [], 'no run left behind');
    // With the password, it is used and never shown.
    const status = await queueStatus({ redis: redis.target });
    assert.equal(JSON.stringify(status).includes(password), false);
    assert.equal(JSON.stringify(status).includes(encodeURIComponent(password)), false);
  });
});

describe('a worker that runs for weeks', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('lets an idle endpoint queue go and serves it again when a run enqueues there', { timeout: 120_000 }, async () => {
    const events: WorkerEvent[] = [];
    // An endpoint registered by a coordinator of an older version (no announcement counter): never let go.
    const legacy = await connectRedis(redis.target, { name: 'test-legacy-coordinator' });
    await legacy.hset(REGISTRY_KEY, rolloutQueueName('legacy'), 'legacy');
    legacy.disconnect();
    const worker = await startWorker({ redis: redis.target, concurrency: 2, idleMs: 300, idleCheckMs: 50, onEvent: (e) => events.push(e) });
    try {
      const taskIds = getEnvironment('mail').tasks().slice(0, 2).map((t) => t.id);
      const run = async (seed: number) => {
        const resolved = await resolveRun({ envs: ['mail'], taskIds, model: 'oracle', epochs: 1, concurrency: 1, seed });
        return (await (await startQueuedRun({ store: openStore(':memory:'), run: { resolved }, queue: { redis: redis.target } })).done).passed;
      };
      assert.equal(await run(1), 2);
      const oracle = rolloutQueueName('oracle');
      await until('the idle oracle queue let go', () => (events.some((e) => e.type === 'released' && e.queue === oracle) ? true : undefined));
      assert.deepEqual(worker.serving(), [rolloutQueueName('legacy')]);
      // Let go, the queue holds no connection of this worker; a new run brings it back.
      const releasedAt = events.findIndex((e) => e.type === 'released' && e.queue === oracle);
      assert.equal(await run(2), 2);
      assert.ok(events.slice(releasedAt).some((e) => e.type === 'serving' && e.queue === oracle), 'served again after it was let go');
      assert.ok(!events.some((e) => e.type === 'released' && e.queue === rolloutQueueName('legacy')));
    } finally {
      await worker.close();
    }
  });
});
