// Shared by the queue tests: a private redis-server on loopback (random free port, temp dir),
// worker child processes, waiting for conditions instead of sleeping, and the jobs and results a
// faulty or hostile peer writes straight into Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { InfraError, RunConfig, Task, type Rollout, type RolloutId, type RunId, type TaskId } from '../src/core/index.ts';
import { defineCheck, defineEnvironment, defineTool, rowsOf } from '../src/envs/index.ts';
import type { EnvironmentCatalog } from '../src/runner/index.ts';
import { bullmq, QUEUE_PREFIX, redisOptions } from '../src/runner/queue/connection.ts';
import { parseRedisUrl, type CoordinatorEvent, type RedisTarget } from '../src/runner/queue/index.ts';
import { scoredRollout } from '../src/store/test-support.ts';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

export interface RedisServer {
  url: string;
  port: number;
  target: RedisTarget;
  /** Stops the server (SIGTERM) and starts it again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function launch(port: number, dir: string, persist: boolean, password: string | undefined): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always', ...(password === undefined ? [] : ['--requirepass', password])];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log.push(line);
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log.join('\n')}`)));
  });
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A redis-server of its own; `persist` keeps an fsynced append-only file across restarts; with
 * `password` it requires one (`url` then carries it, `port` serves to build URLs without it).
 */
export async function startRedis(options: { persist?: boolean; password?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-redis-'));
  const port = await freePort();
  const persist = options.persist ?? false;
  const { password } = options;
  let child = await launch(port, dir, persist, password);
  const url = `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${port}`;
  return {
    url,
    port,
    target: parseRedisUrl(url),
    restart: async () => {
      await terminate(child);
      child = await launch(port, dir, persist, password);
    },
    stop: () => terminate(child),
  };
}

/** A local Redis for a describe block (started before its tests, stopped after), and a plain client of it for writing what a faulty or hostile peer would. */
export function redisWithRawClient(): { redis: RedisServer; raw: Redis } {
  const local = {} as { redis: RedisServer; raw: Redis };
  before(async () => {
    local.redis = await startRedis();
    local.raw = new Redis(local.redis.url);
  });
  after(async () => {
    local.raw?.disconnect();
    await local.redis?.stop();
  });
  return local;
}

/** A BullMQ queue named `name` in this Redis, under the queue's prefix: for adding or reading jobs as another party would. */
export async function bullQueue(redis: RedisServer, name: string) {
  const { Queue } = await bullmq();
  return new Queue(name, { connection: redisOptions(redis.target), prefix: QUEUE_PREFIX });
}

/** A run of the gate environment (`gateCatalog`) played by the oracle, one rollout at a time. */
export const gateRunConfig = (seed: number) => RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed });

/** A well-formed scored record of gate task `taskId`, as a worker would send it: passes every check of a result's content. */
export function gateRollout(ids: { id: RolloutId; runId: string; taskId: string; epoch?: number }): Rollout {
  return { ...scoredRollout({ id: ids.id, runId: ids.runId as RunId, epoch: ids.epoch }), taskId: ids.taskId as TaskId, env: 'gate' };
}

/** A result message of queue protocol 1 for rollout `rolloutId`, carrying `rollout`, as worker `worker` sends it (unsigned). */
export function resultEnvelope(rolloutId: string, rollout: unknown, worker = 'w-forger') {
  return { protocol: 1, rolloutId, attempt: 1, worker, payload: JSON.stringify({ rollout, sessions: [] }) };
}

/** How a worker adds the result job of `rolloutId`; `delayMs` holds it back while a test changes what it stores. */
export function resultJobOptions(rolloutId: string, delayMs?: number) {
  return { jobId: rolloutId, ...(delayMs === undefined ? {} : { delay: delayMs }), removeOnComplete: true, removeOnFail: false, attempts: 1 };
}

/** The results a coordinator reported it could not take, in the order it reported them. */
export function unreadableResults(events: readonly CoordinatorEvent[]) {
  return events.filter((e): e is Extract<CoordinatorEvent, { type: 'result_unreadable' }> => e.type === 'result_unreadable');
}

/**
 * Ends a run that a failed assertion may have left waiting on held rollouts: aborted, its held
 * rollouts let go, and waited on, so it does not keep the test process alive.
 */
export async function endHeldRun(run: { done: Promise<unknown> }, abort: AbortController, gate: { release: () => void }): Promise<void> {
  abort.abort();
  gate.release();
  await run.done.catch(() => undefined);
}

/** Polls `check` until it returns a value (not undefined), failing with `what` after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const give = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > give) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A worker in its own process (test/queue-worker-child.ts), its stdout lines collected. */
export interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<void>;
}

export function spawnWorker(options: { url: string; concurrency: number; stallTimeoutS?: number; env?: Record<string, string>; args?: string[] }): WorkerProcess {
  const entry = fileURLToPath(new URL('./queue-worker-child.ts', import.meta.url));
  const stallTimeout = String(options.stallTimeoutS ?? 1);
  const child = spawn(process.execPath, [...TYPESCRIPT_NODE_ARGS, entry, 'worker', '--queue', options.url, '--concurrency', String(options.concurrency), '--stall-timeout', stallTimeout, ...(options.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, exited };
}

export async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
  await worker.exited;
}

/**
 * A one-tool environment whose tasks `gate/t0` … `gate/t{n-1}` each mark their own id once. Marks
 * of the ids in `held` wait until `release()`, so a test decides exactly which rollouts are still
 * running when it acts; `holding` resolves once the first held mark is waiting.
 */
export function gateCatalog(options: {
  tasks: number;
  held?: readonly string[];
  /** While true, every world's seed fails (an infra error before any model call). */
  down?: () => boolean;
  /** While true, the `mark` tool fails as the environment's infrastructure (an infra error after the agent's first call). */
  broken?: () => boolean;
}): {
  catalog: EnvironmentCatalog;
  tasks: Task[];
  holding: Promise<void>;
  release: () => void;
  starts: Map<string, number>;
} {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding: () => void = () => {};
  const held = new Promise<void>((resolve) => (holding = resolve));
  const starts = new Map<string, number>();
  const tasks = Array.from({ length: options.tasks }, (_, i) =>
    Task.parse({
      id: `gate/t${i}`,
      env: 'gate',
      instruction: `Mark t${i}.`,
      verifier: { checks: [{ check: 'marked', id: `t${i}` }] },
      golden: { steps: [{ tool: 'mark', arguments: { id: `t${i}` } }], answer: 'marked' },
      limits: { maxTurns: 5, deadlineMs: 120_000 },
      tags: { domain: 'queue', difficulty: 'easy' },
    }),
  );
  const env = defineEnvironment({
    name: 'gate',
    description: 'marks, some held until the test releases them (queue tests)',
    schema: 'CREATE TABLE marks (id TEXT PRIMARY KEY)',
    startTime: '2026-01-05T09:00:00Z',
    seed: () => {
      if (options.down?.()) throw new InfraError('environment', 'the gate service is down');
    },
    tools: {
      mark: defineTool({
        description: 'Mark an id.',
        input: z.object({ id: z.string() }),
        run: async ({ id }, { db }) => {
          if (options.broken?.()) throw new InfraError('environment', 'the gate service broke mid-episode');
          starts.set(id, (starts.get(id) ?? 0) + 1);
          if (options.held?.includes(id)) {
            holding();
            await released;
          }
          db.prepare('INSERT OR IGNORE INTO marks VALUES (?)').run(id);
          return 'ok';
        },
      }),
    },
    checks: {
      marked: defineCheck({
        kind: 'outcome',
        description: 'the id was marked',
        params: z.object({ id: z.string() }),
        run: ({ id }, { final }) => ({ passed: rowsOf(final, 'marks').some((r) => r.id === id) }),
      }),
    },
    tasks: () => tasks,
    destructive: () => [],
  });
  return { catalog: { names: () => ['gate'], get: () => env }, tasks, holding: held, release, starts };
}
