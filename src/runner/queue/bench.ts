// Worker throughput with one and with two worker processes on the same queue, for rollouts whose
// environment steps are CPU-bound (the `burn` environment): the figure says how far adding worker
// processes scales a run. The coordinator, Redis and the workers all share this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RunConfig } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { burnEnvironment, burnTasks } from './bench-env.ts';
import { parseRedisUrl } from './connection.ts';
import { executeQueuedRun } from './coordinator.ts';

export interface WorkerScalingOptions {
  /** Rollouts per measured run (default 32). */
  rollouts?: number;
  /** Tool calls per rollout (default 5). */
  steps?: number;
  /** CPU per tool call, in units of 100,000 hash rounds (default 400, about 0.1 s). */
  rounds?: number;
  /** Measured runs per worker count, alternating one and two (default 3). */
  repeats?: number;
}

export interface Throughput {
  workers: number;
  rollouts: number;
  seconds: number;
  rolloutsPerSecond: number;
}

export interface WorkerScalingResult {
  /** The fastest run with one worker process and with two: neighbours on a shared machine only ever slow a run down. */
  one: Throughput;
  two: Throughput;
  /** two.rolloutsPerSecond / one.rolloutsPerSecond, from the fastest runs. */
  ratio: number;
  /** The same from the median runs. */
  medianRatio: number;
  samples: { one: Throughput[]; two: Throughput[] };
  cpus: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Resolves once a stdout line of `child` contains `ready`; rejects if it exits first. */
async function started(child: ChildProcess, ready: string, what: string): Promise<void> {
  const log: string[] = [];
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      if (line.includes(ready)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${log.join('\n').slice(-2000)}`)));
  });
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface Pool {
  workers: number;
  run(tasks: number): Promise<Throughput>;
  close(): Promise<void>;
}

/** `workers` worker processes on their own Redis database, warmed up (queue discovered, hot paths compiled). */
async function pool(options: { url: string; workers: number; steps: number; rounds: number; dir: string }): Promise<Pool> {
  const workerEntry = fileURLToPath(new URL('./bench-worker.ts', import.meta.url));
  const children = Array.from({ length: options.workers }, () => spawn(process.execPath, ['--import', 'tsx', workerEntry, options.url, '1'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const store = openStore(join(options.dir, `bench-${options.workers}.db`));
  const redis = parseRedisUrl(options.url);
  const config = RunConfig.parse({ envs: ['burn'], model: 'oracle', epochs: 1, concurrency: 1, seed: 1, maxAttempts: 1 });
  const run = async (count: number): Promise<Throughput> => {
    const tasks = burnTasks({ tasks: count, steps: options.steps, rounds: options.rounds });
    const catalog = { names: () => ['burn'], get: () => burnEnvironment(tasks) };
    const t0 = performance.now();
    const summary = await executeQueuedRun({ store, run: { resolved: { config, tasks } }, queue: { redis }, catalog });
    const seconds = (performance.now() - t0) / 1000;
    if (summary.passed !== count) throw new Error(`bench run with ${options.workers} workers: ${summary.passed}/${count} passed ${summary.failure ?? ''}`);
    return { workers: options.workers, rollouts: count, seconds, rolloutsPerSecond: count / seconds };
  };
  const close = async () => {
    await Promise.all(children.map(stopped));
    store.close();
  };
  try {
    await Promise.all(children.map((c, i) => started(c, 'ready', `bench worker ${i + 1}`)));
    await run(2 * options.workers);
  } catch (error) {
    await close();
    throw error;
  }
  return { workers: options.workers, run, close };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fastest(samples: Throughput[]): Throughput {
  return samples.reduce((best, s) => (s.rolloutsPerSecond > best.rolloutsPerSecond ? s : best));
}

/** Needs `redis-server` on PATH: the bench starts its own on loopback, in a temp directory. */
export async function benchWorkerScaling(options: WorkerScalingOptions = {}): Promise<WorkerScalingResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-bench-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pools: Pool[] = [];
  try {
    await started(redis, 'Ready to accept connections', 'redis-server');
    const settings = { steps: options.steps ?? 5, rounds: options.rounds ?? 400, dir };
    // Separate databases: idle workers of one pool never take the other pool's rollouts.
    pools.push(await pool({ ...settings, url: `redis://127.0.0.1:${port}/1`, workers: 1 }));
    pools.push(await pool({ ...settings, url: `redis://127.0.0.1:${port}/2`, workers: 2 }));
    const samples: WorkerScalingResult['samples'] = { one: [], two: [] };
    // Alternating, so a neighbour's burst of work slows both counts alike.
    for (let r = 0; r < (options.repeats ?? 3); r++) {
      samples.one.push(await pools[0]!.run(options.rollouts ?? 32));
      samples.two.push(await pools[1]!.run(options.rollouts ?? 32));
    }
    const one = fastest(samples.one);
    const two = fastest(samples.two);
    const medianRatio = median(samples.two.map((s) => s.rolloutsPerSecond)) / median(samples.one.map((s) => s.rolloutsPerSecond));
    return { one, two, ratio: two.rolloutsPerSecond / one.rolloutsPerSecond, medianRatio, samples, cpus: availableParallelism() };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await stopped(redis);
    rmSync(dir, { recursive: true, force: true });
  }
}
