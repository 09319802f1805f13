// Chaos scenarios with processes that die: a queue worker killed with SIGKILL mid-rollout, Redis
// restarted mid-run with all its data lost, and the main process killed mid-run and resumed.
// Each blocks its victim at an exact tool call, so the kill lands mid-rollout, not by timer.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunConfig } from '../../src/core/index.ts';
import { selectTasks } from '../../src/runner/index.ts';
import { startQueuedRun, startWorker, type CoordinatorEvent } from '../../src/runner/queue/index.ts';
import { openStore } from '../../src/store/index.ts';
import { counterCatalog } from '../support/counter-env.ts';
import { gateCatalog, spawnWorker, startRedis, stopWorker, until, type WorkerProcess } from '../queue-support.ts';
import { descendants, ledger, rolloutKeys, settleOrphans, type ChaosRow } from './ledger.ts';
import { TYPESCRIPT_NODE_ARGS } from '../support/typescript.ts';

const COUNTER_TASKS = ['counter/a', 'counter/b', 'counter/c'];

/**
 * Worker A blocks at its fifth increment (mid-rollout, results already stored) and is SIGKILLed,
 * or stopped with `--stop-grace 0` (its rollouts handed back: with a stall timeout of a minute, the
 * run ends in time only if they were); worker B finishes.
 */
export async function workerKillScenario(options: { epochs: number; stop?: 'SIGKILL' | 'hand-back' }): Promise<ChaosRow> {
  const redis = await startRedis();
  const store = openStore(':memory:');
  const handBack = options.stop === 'hand-back';
  const a = spawnWorker({ url: redis.url, concurrency: 2, env: { GAUNTLET_TEST_BLOCK_AT_CALL: '5' }, ...(handBack ? { stallTimeoutS: 60, args: ['--stop-grace', '0'] } : {}) });
  // B joins once A is stuck, so A surely takes the jobs it is to be killed with.
  let b: WorkerProcess | undefined;
  try {
    const config = RunConfig.parse({ envs: ['counter'], model: 'oracle', epochs: options.epochs, concurrency: 1, seed: 3 });
    const run = await startQueuedRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, queue: { redis: redis.target }, catalog: counterCatalog });
    await until('worker A blocked mid-rollout', () => (a.lines.some((l) => l.includes('test: blocked at')) ? true : undefined));
    b = spawnWorker({ url: redis.url, concurrency: 2, ...(handBack ? { stallTimeoutS: 60 } : {}) });
    const stoppedAt = Date.now();
    if (handBack) {
      a.child.kill('SIGTERM');
      await until('worker A handed its rollouts back', () => (a.lines.some((l) => l.includes('"handed_back"')) ? true : undefined));
    }
    // Stopped, its blocked tool would ignore the cancel for the episode's grace; nothing is left to wait for.
    a.child.kill('SIGKILL');
    await a.exited;
    const summary = await run.done;
    const tookMs = Date.now() - stoppedAt;
    const row = ledger({ scenario: handBack ? 'queue worker stopped, rollouts handed back' : 'queue worker SIGKILL mid-rollout', store, runId: summary.runId, expectedKeys: rolloutKeys(COUNTER_TASKS, options.epochs), orphans: 0 });
    if (summary.status !== 'finished') row.notes.push(`the run ended ${summary.status}: ${summary.failure ?? ''}`);
    if (handBack && tookMs > 30_000) row.notes.push(`the run took ${Math.round(tookMs / 1000)} s after worker A was stopped: its rollouts waited out the stall timeout instead of being handed back`);
    return row;
  } finally {
    await stopWorker(a, 'SIGKILL');
    if (b) await stopWorker(b);
    await redis.stop();
    store.close();
  }
}

/** Redis without persistence restarted while one rollout is held running: its job and result are gone and must be enqueued again. */
export async function redisRestartScenario(options: { tasks: number }): Promise<ChaosRow> {
  const redis = await startRedis({ persist: false });
  const gate = gateCatalog({ tasks: options.tasks, held: ['t2'] });
  const store = openStore(':memory:');
  const worker = await startWorker({ redis: redis.target, concurrency: 2, catalog: gate.catalog, lockMs: 1000 });
  try {
    const config = RunConfig.parse({ envs: ['gate'], model: 'oracle', epochs: 1, concurrency: 1, seed: 1 });
    const events: CoordinatorEvent[] = [];
    const run = await startQueuedRun({ store, run: { resolved: { config, tasks: gate.tasks } }, queue: { redis: redis.target }, catalog: gate.catalog, onQueue: (e) => events.push(e) });
    await gate.holding;
    await until('2 results stored', () => (store.rollouts(run.run.id).length >= 2 ? true : undefined));
    await redis.restart();
    await until('the lost job enqueued again', () => (events.some((e) => e.type === 'requeued') ? true : undefined));
    gate.release();
    const summary = await run.done;
    const row = ledger({ scenario: 'Redis restarted, data lost', store, runId: summary.runId, expectedKeys: rolloutKeys(gate.tasks.map((t) => t.id), 1), orphans: 0 });
    if (summary.status !== 'finished') row.notes.push(`the run ended ${summary.status}: ${summary.failure ?? ''}`);
    return row;
  } finally {
    gate.release();
    await worker.close({ force: true });
    await redis.stop();
    store.close();
  }
}

const CLI = [...TYPESCRIPT_NODE_ARGS, 'test/support/cli-with-counter.ts'];

/** `gauntlet run` SIGKILLed while its 8th rollout runs, then `--resume`d in a new process. */
export async function mainKillScenario(options: { epochs: number }): Promise<ChaosRow> {
  const before = new Set(descendants());
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-chaos-')), 'g.db');
  const child = spawn(process.execPath, [...CLI, 'run', '--env', 'counter', '--model', 'oracle', '--epochs', String(options.epochs), '--concurrency', '1', '--seed', '5', '--store', path], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Increment 15 is the first of rollout 8: seven are stored, the eighth is cut mid-way.
    env: { ...process.env, GAUNTLET_TEST_BLOCK_AT_CALL: '15' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await until(`the run blocked mid-rollout (${stderr})`, () => (stderr.includes('test: blocked at') ? true : undefined));
  child.kill('SIGKILL');
  await exited;
  const first = openStore(path);
  const runId = first.listRuns(1)[0]!.id;
  first.close();
  const resumed = spawnSync(process.execPath, [...CLI, 'run', '--resume', runId, '--store', path], { encoding: 'utf8' });
  const store = openStore(path);
  try {
    const row = ledger({ scenario: 'main process SIGKILL, resumed', store, runId, expectedKeys: rolloutKeys(COUNTER_TASKS, options.epochs), orphans: await settleOrphans(before) });
    if (resumed.status !== 0) row.notes.push(`--resume exited ${resumed.status}: ${resumed.stderr.slice(0, 300)}`);
    return row;
  } finally {
    store.close();
  }
}

/** Counts what outlived a scenario once its own cleanup ran. */
export async function withOrphanCount(scenario: () => Promise<ChaosRow>): Promise<ChaosRow> {
  const before = new Set(descendants());
  const row = await scenario();
  row.orphans = Math.max(row.orphans, await settleOrphans(before));
  return row;
}
