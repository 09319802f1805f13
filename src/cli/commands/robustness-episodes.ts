// Perturbed rollouts for `gauntlet robustness`, through the one episode lifecycle (runEpisode) and
// the agent loop, scored as the runner scores them. Until the runner applies a run's
// `perturbations` itself, this is how a perturbed rollout is played; it does what the runner will:
// perturb the task, give reset the perturbed world seed, wrap the live environment, apply the
// perturbation's settings, and keep the records on the rollout.
import { runAgent, scaffolds, type ContextPolicy } from '../../agent/index.ts';
import {
  createRng,
  nullRecorder,
  rolloutIdFor,
  SCHEMA_VERSION,
  taskHash,
  type Judge,
  type ModelClient,
  type Rollout,
  type RolloutRecorder,
  type RunId,
  type Task,
} from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { perturbEpisode, resolvePerturbations, seedForEpoch, toolsOf, type EpisodeSettings, type PerturbedEpisode, type ResolvedPerturbations, type Suite } from '../../perturb/index.ts';
import { scoreRollout } from '../../reward/index.ts';
import { forEachConcurrent, groupIdFor, rolloutSeed, runEpisode, type EpisodeOutcome } from '../../runner/index.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';
import type { ArmInput } from './robustness-report.ts';

export interface PerturbedRolloutSpec {
  runId: RunId;
  definition: EnvironmentDefinition;
  /** The task as written; the perturbed one is derived from it. */
  task: Task;
  epoch: number;
  /** The run's seed: worlds (rollout seeds) derive from it, as in `gauntlet run`. */
  runSeed: number;
  /** The seed perturbations draw from for this epoch. */
  perturbSeed: number;
  resolved: ResolvedPerturbations;
  /** The model for these settings (a text-completion client when the scaffold is text-tools). */
  model: ModelClient;
  sandbox?: SandboxBackend;
  judge?: Judge;
  maxAttempts?: number;
  maxTurns?: number;
  deadlineMs?: number;
  graceMs?: number;
  signal?: AbortSignal;
  recorder?: RolloutRecorder;
  now?: () => number;
}

const emptyStats = { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 };

/** The episode a spec describes: the perturbed task, wrapper, settings and records. */
export function episodeOf(spec: Pick<PerturbedRolloutSpec, 'definition' | 'task' | 'perturbSeed' | 'resolved'>): PerturbedEpisode {
  return perturbEpisode({ task: spec.task, tools: toolsOf(spec.definition), resolved: spec.resolved, seed: spec.perturbSeed });
}

async function attempt(spec: PerturbedRolloutSpec, episode: PerturbedEpisode, identity: { runId: RunId; rolloutId: Rollout['id']; attempt: number }): Promise<EpisodeOutcome> {
  const task = episode.task;
  const now = spec.now ?? Date.now;
  const recorder = spec.recorder ?? nullRecorder;
  const deadlineMs = spec.deadlineMs ?? task.limits.deadlineMs;
  const context: ContextPolicy | undefined = episode.settings.context;
  const seed = rolloutSeed(spec.runSeed, task.id, spec.epoch);
  return runEpisode({
    definition: spec.definition,
    task,
    seed: episode.worldSeed(seed),
    ...(spec.sandbox ? { sandbox: spec.sandbox } : {}),
    ...(spec.judge ? { judge: spec.judge } : {}),
    ...(spec.signal ? { signal: spec.signal } : {}),
    deadlineMs,
    graceMs: spec.graceMs ?? 10_000,
    now,
    recorder,
    drive: (live, { deadlineAt, signal }) =>
      runAgent({
        task,
        environment: episode.wrapEnvironment(live.environment),
        model: spec.model,
        recorder,
        identity,
        settings: {
          scaffold: scaffolds[episode.settings.scaffold ?? 'interleaved'],
          maxTurns: episode.settings.maxTurns ?? spec.maxTurns ?? task.limits.maxTurns,
          deadlineAt,
          rng: createRng(seed),
          now,
          ...(context ? { context } : {}),
        },
        ...(live.observation ? { observation: live.observation } : {}),
        ...(signal ? { signal } : {}),
      }),
  });
}

/**
 * One scored (or infra/defect) rollout of a perturbed task. Infrastructure failures are retried up
 * to `maxAttempts`; the returned rollout carries the perturbation records (none for the baseline).
 * Null when the caller cancelled.
 */
export async function runPerturbedRollout(spec: PerturbedRolloutSpec): Promise<Rollout | null> {
  const now = spec.now ?? Date.now;
  const episode = episodeOf(spec);
  const id = rolloutIdFor(spec.runId, spec.task.id, spec.epoch);
  const startedAt = now();
  const maxAttempts = spec.maxAttempts ?? 3;
  let outcome: EpisodeOutcome;
  let tries = 1;
  for (;; tries++) {
    outcome = await attempt(spec, episode, { runId: spec.runId, rolloutId: id, attempt: tries });
    if (spec.signal?.aborted) return null;
    if (outcome.kind !== 'infra' || !outcome.retryable || tries >= maxAttempts) break;
  }
  const base = {
    schemaVersion: SCHEMA_VERSION,
    id,
    runId: spec.runId,
    taskId: spec.task.id,
    env: spec.task.env,
    epoch: spec.epoch,
    groupId: groupIdFor(spec.runId, spec.task.id, spec.epoch, 1),
    taskHash: taskHash(spec.task),
    attempt: tries,
    seed: rolloutSeed(spec.runSeed, spec.task.id, spec.epoch),
    model: spec.model.spec,
    scaffold: episode.settings.scaffold ?? 'interleaved',
    perturbations: episode.records,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(now()).toISOString(),
    durationMs: Math.max(0, now() - startedAt),
  };
  const unscored = { score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null };
  switch (outcome.kind) {
    case 'infra':
      return { ...base, ...unscored, status: 'infra_error', terminationReason: 'infra_error', error: { source: outcome.source, kind: outcome.failure, message: outcome.message }, stats: emptyStats };
    case 'error':
      return { ...base, ...unscored, status: 'error', terminationReason: 'error', error: { source: outcome.source, kind: 'defect', message: outcome.message }, stats: emptyStats };
    case 'cancelled':
      return { ...base, ...unscored, status: 'cancelled', terminationReason: 'cancelled', error: null, stats: outcome.result?.stats ?? emptyStats };
    case 'done': {
      const scored = scoreRollout({ verifier: outcome.verifier, terminationReason: outcome.result.terminationReason });
      return {
        ...base,
        status: 'scored',
        terminationReason: outcome.result.terminationReason,
        score: scored.score,
        passed: scored.passed,
        rewardTerms: scored.terms,
        verifier: outcome.verifier,
        error: null,
        finalAnswer: outcome.result.answer,
        stats: outcome.result.stats,
      };
    }
  }
}

export interface SuiteRunOptions {
  suite: Suite;
  tasks: readonly Task[];
  definition: (env: string) => EnvironmentDefinition;
  /** The model for an episode's settings (text-tools needs a text-completion client); asked per rollout, so cache costly clients. */
  modelFor: (settings: EpisodeSettings) => ModelClient | Promise<ModelClient>;
  epochs: number;
  runSeed: number;
  concurrency: number;
  sandbox?: SandboxBackend;
  judge?: Judge;
  maxTurns?: number;
  deadlineMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface SuiteResults {
  baseline: Rollout[];
  arms: ArmInput[];
  /** Rollouts not run because the caller cancelled. */
  cancelled: number;
}

interface Work {
  arm: number; // -1: baseline
  task: Task;
  epoch: number;
}

/**
 * The baseline and every arm of the suite over the same tasks and epochs: epoch e of a task runs in
 * the same world in every arm (paired), with the suite's seed for that epoch. Arms skip the tasks
 * none of their perturbations apply to, and say so.
 */
export async function runSuite(options: SuiteRunOptions): Promise<SuiteResults> {
  const none = resolvePerturbations([]);
  const arms = options.suite.arms.map((arm) => ({ id: arm.id, split: arm.split, families: arm.families, rollouts: [] as Rollout[], notApplicable: [] as ArmInput['notApplicable'], partlyApplied: [] as ArmInput['partlyApplied'] }));
  // Whether a perturbation applies depends on the task, never on the seed: one probe per arm and task.
  const applies = options.suite.arms.map((arm, i) =>
    options.tasks.map((task) => {
      const probe = episodeOf({ definition: options.definition(task.env), task, perturbSeed: seedForEpoch(options.suite, 0), resolved: arm.resolved });
      if (probe.records.length === 0) arms[i]!.notApplicable.push({ id: task.id, reason: probe.skipped.map((s) => `${s.id}: ${s.reason}`).join('; ') });
      else if (probe.skipped.length > 0) arms[i]!.partlyApplied.push({ id: task.id, skipped: probe.skipped.map((s) => s.id) });
      return probe.records.length > 0;
    }),
  );
  const work: Work[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    options.tasks.forEach((task, t) => {
      work.push({ arm: -1, task, epoch });
      applies.forEach((byTask, arm) => {
        if (byTask[t]) work.push({ arm, task, epoch });
      });
    });
  }
  const baseline: Rollout[] = [];
  let done = 0;
  let cancelled = 0;
  options.onProgress?.({ done, total: work.length });
  await forEachConcurrent(work, options.concurrency, async (item) => {
    if (options.signal?.aborted) {
      cancelled++;
      return;
    }
    const resolved = item.arm < 0 ? none : options.suite.arms[item.arm]!.resolved;
    const definition = options.definition(item.task.env);
    const perturbSeed = seedForEpoch(options.suite, item.epoch);
    const settings = episodeOf({ definition, task: item.task, perturbSeed, resolved }).settings;
    const rollout = await runPerturbedRollout({
      runId: `robustness/${item.arm < 0 ? 'baseline' : `arm-${item.arm}`}` as RunId,
      definition,
      task: item.task,
      epoch: item.epoch,
      runSeed: options.runSeed,
      perturbSeed,
      resolved,
      model: await options.modelFor(settings),
      ...(options.sandbox ? { sandbox: options.sandbox } : {}),
      ...(options.judge ? { judge: options.judge } : {}),
      ...(options.maxTurns ? { maxTurns: options.maxTurns } : {}),
      ...(options.deadlineMs ? { deadlineMs: options.deadlineMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!rollout) {
      cancelled++;
      return;
    }
    (item.arm < 0 ? baseline : arms[item.arm]!.rollouts).push(rollout);
    options.onProgress?.({ done: ++done, total: work.length });
  });
  const order = (a: Rollout, b: Rollout) => a.epoch - b.epoch || a.taskId.localeCompare(b.taskId);
  baseline.sort(order);
  for (const arm of arms) arm.rollouts.sort(order);
  return { baseline, arms, cancelled };
}
