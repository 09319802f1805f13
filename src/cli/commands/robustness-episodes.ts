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
  InputError,
} from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { FORMAT_NAMES, isFormatName } from '../../formats/index.ts';
import { perturbEpisode, resolvePerturbations, seedForEpoch, toolsOf, type EpisodeSettings, type PerturbedEpisode, type ResolvedPerturbations, type Suite } from '../../perturb/index.ts';
import { scoreRollout } from '../../reward/index.ts';
import { forEachConcurrent, groupIdFor, rolloutSeed, runEpisode, type EpisodeDriver, type EpisodeOutcome } from '../../runner/index.ts';
import { unscoredRollout } from '../../runner/rollout.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';
import { AGENTS, agentSpec, type AgentSpec } from '../../training/agents/index.ts';
import type { ArmInput } from './robustness-report.ts';

/**
 * Who plays an episode: Gauntlet's agent loop with a model client (a text-completion client when
 * the scaffold is text-tools), or an external agent program's driver in front of a model spec.
 */
export type Player = { model: ModelClient; driver?: undefined } | { driver: EpisodeDriver; modelSpec: string; model?: undefined };

export type PerturbedRolloutSpec = RolloutSpecBase & Player;

interface RolloutSpecBase {
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

/** The episode a spec describes: the perturbed task, wrapper, settings and records. */
export function episodeOf(spec: Pick<PerturbedRolloutSpec, 'definition' | 'task' | 'perturbSeed' | 'resolved' | 'maxTurns'>): PerturbedEpisode {
  // The run's --max-turns is what the baseline gets, so it is what scaffold.budget scales.
  return perturbEpisode({ task: spec.task, tools: toolsOf(spec.definition), resolved: spec.resolved, seed: spec.perturbSeed, ...(spec.maxTurns !== undefined ? { maxTurns: spec.maxTurns } : {}) });
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
      spec.driver
        ? spec.driver.drive({ task, episode: live, identity, recorder, deadlineAt, now, ...(signal ? { signal } : {}) })
        : runAgent({
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
  // An external agent sees the environment's own tools and prompt: recording perturbations it never saw would misreport the rollout.
  if (spec.driver && spec.resolved.entries.length > 0) throw new InputError('perturbations', `${spec.driver.name} plays the task as written; perturbations apply to Gauntlet's agent loop only`, 'no perturbations with an external agent');
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
    model: spec.driver ? spec.modelSpec : spec.model.spec,
    scaffold: spec.driver?.name ?? episode.settings.scaffold ?? 'interleaved',
    perturbations: episode.records,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(now()).toISOString(),
    durationMs: Math.max(0, now() - startedAt),
  };
  if (outcome.kind !== 'done') return unscoredRollout(base, outcome);
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

/** What every column of a comparison shares: the tasks, epochs, worlds and limits. */
interface SharedRunOptions {
  tasks: readonly Task[];
  definition: (env: string) => EnvironmentDefinition;
  epochs: number;
  runSeed: number;
  /** The seed perturbations draw from in epoch e. */
  perturbSeed: (epoch: number) => number;
  concurrency: number;
  sandbox?: SandboxBackend;
  judge?: Judge;
  maxTurns?: number;
  deadlineMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

/** The model for an episode's settings (text-tools needs a text-completion client); asked per rollout, so cache costly clients. */
export type ModelFor = (settings: EpisodeSettings) => ModelClient | Promise<ModelClient>;

/** One column of a comparison: the perturbations its episodes get and who plays them. */
export interface Column {
  /** Names the column's rollouts (`robustness/KEY`). */
  key: string;
  resolved: ResolvedPerturbations;
  player: { modelFor: ModelFor } | { driver: EpisodeDriver; modelSpec: string };
}

export interface ColumnResult {
  rollouts: Rollout[];
  /** Tasks none of the column's perturbations apply to, with each one's reason; not run in it. */
  notApplicable: ArmInput['notApplicable'];
  partlyApplied: ArmInput['partlyApplied'];
}

export interface ColumnsResults {
  columns: ColumnResult[];
  /** Rollouts not run because the caller cancelled. */
  cancelled: number;
}

interface Work {
  column: number;
  task: Task;
  epoch: number;
}

/**
 * Every column over the same tasks and epochs: epoch e of a task runs in the same world in every
 * column (paired). A column skips the tasks none of its perturbations apply to, and says so; a
 * column without perturbations runs them all.
 */
export async function runColumns(options: SharedRunOptions & { columns: readonly Column[] }): Promise<ColumnsResults> {
  const results: ColumnResult[] = options.columns.map(() => ({ rollouts: [], notApplicable: [], partlyApplied: [] }));
  // Whether a perturbation applies depends on the task, never on the seed: one probe per column and task.
  const applies = options.columns.map((column, i) =>
    options.tasks.map((task) => {
      if (column.resolved.entries.length === 0) return true;
      const probe = episodeOf({ definition: options.definition(task.env), task, perturbSeed: options.perturbSeed(0), resolved: column.resolved });
      if (probe.records.length === 0) results[i]!.notApplicable.push({ id: task.id, reason: probe.skipped.map((s) => `${s.id}: ${s.reason}`).join('; ') });
      else if (probe.skipped.length > 0) results[i]!.partlyApplied.push({ id: task.id, skipped: probe.skipped.map((s) => s.id) });
      return probe.records.length > 0;
    }),
  );
  const work: Work[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    options.tasks.forEach((task, t) => {
      applies.forEach((byTask, column) => {
        if (byTask[t]) work.push({ column, task, epoch });
      });
    });
  }
  let done = 0;
  let cancelled = 0;
  options.onProgress?.({ done, total: work.length });
  await forEachConcurrent(work, options.concurrency, async (item) => {
    if (options.signal?.aborted) {
      cancelled++;
      return;
    }
    const column = options.columns[item.column]!;
    const definition = options.definition(item.task.env);
    const perturbSeed = options.perturbSeed(item.epoch);
    const player: Player =
      'driver' in column.player
        ? { driver: column.player.driver, modelSpec: column.player.modelSpec }
        : { model: await column.player.modelFor(episodeOf({ definition, task: item.task, perturbSeed, resolved: column.resolved }).settings) };
    const rollout = await runPerturbedRollout({
      runId: `robustness/${column.key}` as RunId,
      definition,
      task: item.task,
      epoch: item.epoch,
      runSeed: options.runSeed,
      perturbSeed,
      resolved: column.resolved,
      ...player,
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
    results[item.column]!.rollouts.push(rollout);
    options.onProgress?.({ done: ++done, total: work.length });
  });
  const order = (a: Rollout, b: Rollout) => a.epoch - b.epoch || a.taskId.localeCompare(b.taskId);
  for (const result of results) result.rollouts.sort(order);
  return { columns: results, cancelled };
}

export interface SuiteRunOptions extends Omit<SharedRunOptions, 'perturbSeed'> {
  suite: Suite;
  modelFor: ModelFor;
}

export interface SuiteResults {
  baseline: Rollout[];
  arms: ArmInput[];
  /** Rollouts not run because the caller cancelled. */
  cancelled: number;
}

/**
 * The unperturbed baseline and every arm of the suite over the same tasks and epochs (paired),
 * with the suite's seed for each epoch.
 */
export async function runSuite(options: SuiteRunOptions): Promise<SuiteResults> {
  const { suite, modelFor, ...shared } = options;
  const columns: Column[] = [
    { key: 'baseline', resolved: resolvePerturbations([]), player: { modelFor } },
    ...suite.arms.map((arm, i) => ({ key: `arm-${i}`, resolved: arm.resolved, player: { modelFor } })),
  ];
  const { columns: results, cancelled } = await runColumns({ ...shared, columns, perturbSeed: (epoch) => seedForEpoch(suite, epoch) });
  const [baseline, ...arms] = results;
  return {
    baseline: baseline!.rollouts,
    arms: arms.map((result, i) => ({ id: suite.arms[i]!.id, split: suite.arms[i]!.split, families: suite.arms[i]!.families, ...result })),
    cancelled,
  };
}

/**
 * One entry of `--scaffolds`: Gauntlet's agent loop under a scaffold perturbation (its spec and the
 * settings it gives episodes), or an external agent program.
 */
export type ScaffoldChoice = { label: string; perturbation: string; settings: EpisodeSettings } | { label: string; agent: AgentSpec };

export const SCAFFOLD_CHOICES = `interleaved, drop-thinking, text-tools:FORMAT (${FORMAT_NAMES.join(', ')}), agent:NAME (${Object.keys(AGENTS).join(', ')})`;

/** Reads one `--scaffolds` entry; unknown scaffolds, formats and agents are InputErrors listing the valid ones. */
export function parseScaffold(text: string, where = '--scaffolds'): ScaffoldChoice {
  const label = text.trim();
  if (label === 'interleaved' || label === 'drop-thinking') return { label, perturbation: `scaffold.thinking:mode=${label}`, settings: { scaffold: label } };
  const colon = label.indexOf(':');
  const [kind, arg] = colon === -1 ? [label, ''] : [label.slice(0, colon), label.slice(colon + 1)];
  if (kind === 'text-tools') {
    if (!isFormatName(arg)) throw new InputError(where, `"${label}" names no tool-call format`, `text-tools:FORMAT with FORMAT one of ${FORMAT_NAMES.join(', ')}`);
    return { label, perturbation: `scaffold.tools:mode=text,format=${arg}`, settings: { scaffold: 'text-tools', toolFormat: arg } };
  }
  if (kind === 'agent') {
    try {
      return { label, agent: agentSpec(arg) };
    } catch (error) {
      throw error instanceof InputError ? error.at(where) : error;
    }
  }
  throw new InputError(where, `unknown scaffold "${label}"`, SCAFFOLD_CHOICES);
}

export function parseScaffolds(list: readonly string[], where = '--scaffolds'): ScaffoldChoice[] {
  if (list.length === 0) throw new InputError(where, 'no scaffolds given', SCAFFOLD_CHOICES);
  const choices = list.map((text) => parseScaffold(text, where));
  const labels = choices.map((c) => c.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) throw new InputError(where, `"${twice}" is given twice`, 'each scaffold once');
  return choices;
}
