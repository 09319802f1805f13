import type { ContextPolicy } from '../agent/index.ts';
import {
  GAUNTLET_VERSION,
  InputError,
  newRunId,
  rolloutIdFor,
  RunConfig,
  SCHEMA_VERSION,
  TerminationReason,
  type ModelClient,
  type Rollout,
  type Run,
  type RunId,
  type Task,
} from '../core/index.ts';
import { getEnvironment, type EnvironmentDefinition } from '../envs/index.ts';
import type { SqliteStore } from '../store/index.ts';
import { forEachConcurrent } from './pool.ts';
import { executeRollout } from './rollout.ts';

export interface RunProgress {
  total: number;
  done: number;
  scored: number;
  passed: number;
  infraErrors: number;
}

export interface ExecuteRunOptions {
  /** A new run's configuration; ignored when resuming (the stored one is used). */
  config?: RunConfig;
  /** Resume this run: only rollouts without a stored result are run. */
  resume?: string;
  store: SqliteStore;
  /** The model; built by the caller from the run's model spec (resuming rebuilds it from the stored spec). */
  model: ModelClient;
  /** The judge for LLM-judge checks, built from `config.judge`. */
  judge?: ModelClient;
  tasks: (config: RunConfig) => Task[];
  environment?: (name: string) => EnvironmentDefinition;
  context?: ContextPolicy;
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  graceMs?: number;
}

export interface RunSummary {
  runId: RunId;
  status: Run['status'];
  rollouts: number;
  scored: number;
  infraErrors: number;
  cancelled: number;
  passed: number;
  /** passed ÷ scored (0 when nothing was scored). */
  passRate: number;
  /** Mean score over scored rollouts (0 when nothing was scored). */
  meanScore: number;
  terminationReasons: Record<TerminationReason, number>;
  missing: number;
  durationMs: number;
}

/** Creates (or reopens for `--resume`) a run, runs every missing rollout, and summarises the stored results. */
export async function executeRun(options: ExecuteRunOptions): Promise<RunSummary> {
  const now = options.now ?? Date.now;
  const started = now();
  const { store } = options;
  let run: Run;
  if (options.resume) {
    const stored = store.getRun(options.resume);
    if (!stored) throw new InputError('--resume', `no run "${options.resume}" in ${store.path}`, 'a run id shown by `gauntlet runs`');
    run = stored;
    store.setRunStatus(run.id, 'running');
  } else {
    if (!options.config) throw new InputError('run', 'a configuration is required for a new run');
    const config = RunConfig.parse(options.config);
    run = { schemaVersion: SCHEMA_VERSION, id: newRunId(new Date(started)), createdAt: new Date(started).toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null };
    store.createRun(run);
  }
  const config = run.config;
  const tasks = options.tasks(config);
  const finished = store.finishedRolloutIds(run.id);
  const work: { task: Task; epoch: number }[] = [];
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (const task of tasks) if (!finished.has(rolloutIdFor(run.id, task.id, epoch))) work.push({ task, epoch });
  }
  const progress: RunProgress = { total: tasks.length * config.epochs, done: finished.size, scored: 0, passed: 0, infraErrors: 0 };
  options.onProgress?.(progress);
  const ctx = {
    runId: run.id,
    config,
    store,
    model: options.model,
    environment: options.environment ?? getEnvironment,
    now,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    graceMs: options.graceMs ?? 10_000,
    ...(options.context ? { context: options.context } : {}),
    ...(options.judge ? { judge: options.judge } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  await forEachConcurrent(work, config.concurrency, async ({ task, epoch }) => {
    if (options.signal?.aborted) return;
    const rollout = await executeRollout(ctx, task, epoch);
    if (!rollout) return;
    store.saveRollout(rollout);
    progress.done++;
    if (rollout.status === 'scored') progress.scored++;
    if (rollout.passed) progress.passed++;
    if (rollout.status === 'infra_error') progress.infraErrors++;
    options.onProgress?.(progress);
  });
  const status = options.signal?.aborted ? 'interrupted' : 'finished';
  store.setRunStatus(run.id, status);
  return summarise(run.id, status, store.rollouts(run.id), { expected: tasks.length * config.epochs, durationMs: now() - started });
}

export function summarise(runId: RunId, status: Run['status'], rollouts: Rollout[], extra: { expected: number; durationMs: number }): RunSummary {
  const scored = rollouts.filter((r) => r.status === 'scored');
  const passed = scored.filter((r) => r.passed).length;
  const reasons = Object.fromEntries(TerminationReason.options.map((r) => [r, 0])) as Record<TerminationReason, number>;
  for (const r of rollouts) reasons[r.terminationReason]++;
  return {
    runId,
    status,
    rollouts: rollouts.length,
    scored: scored.length,
    infraErrors: rollouts.filter((r) => r.status === 'infra_error').length,
    cancelled: rollouts.filter((r) => r.status === 'cancelled').length,
    passed,
    passRate: scored.length ? passed / scored.length : 0,
    meanScore: scored.length ? scored.reduce((s, r) => s + (r.score ?? 0), 0) / scored.length : 0,
    terminationReasons: reasons,
    missing: Math.max(0, extra.expected - rollouts.length),
    durationMs: extra.durationMs,
  };
}
