// Shared by the queue tests: a private redis-server on loopback (random free port, temp dir),
// worker child processes, and waiting for conditions instead of sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { InfraError, Task } from '../src/core/index.ts';
import { defineCheck, defineEnvironment, defineTool, rowsOf } from '../src/envs/index.ts';
import type { EnvironmentCatalog } from '../src/runner/index.ts';
import { parseRedisUrl, type RedisTarget } from '../src/runner/queue/index.ts';

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
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'worker', '--queue', options.url, '--concurrency', String(options.concurrency), '--stall-timeout', stallTimeout, ...(options.args ?? [])], {
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
