import { modelCallRecord, runAgent, scaffolds, type ContextPolicy } from '../agent/index.ts';
import {
  createRng,
  hashString,
  InfraError,
  rolloutIdFor,
  SCHEMA_VERSION,
  taskHash,
  type AttemptIdentity,
  type AttemptsSpend,
  type Judge,
  type ModelClient,
  type Rollout,
  type RolloutRecorder,
  type RunConfig,
  type RunId,
  type Store,
  type Task,
} from '../core/index.ts';
import { createLlmUser, userModelFrom, type EnvironmentDefinition, type UserCallRecord, type UserSimulator } from '../envs/index.ts';
import { perturbEpisode, resolvePerturbations, toolsOf, type PerturbedEpisode, type ResolvedPerturbations } from '../perturb/index.ts';
import { DEFAULT_REWARD_CONFIG, parseRewardConfig, rewardNeeds, rewardRollout, traceAttempt, type AttemptSpend, type RewardConfig } from '../reward/index.ts';
import { runEpisode, type ClosingEnvironments, type EpisodeDriver, type EpisodeOutcome } from './episode.ts';
import { createTurnPacer } from './pool.ts';
import { requestTimeoutFor } from './resolve.ts';

export interface RolloutContext {
  runId: RunId;
  config: RunConfig;
  /**
   * Only what a rollout writes through, and what it needs of the attempts stored before it: a
   * queue worker passes a buffer that travels back to the coordinator.
   */
  store: Pick<Store, 'recorder' | 'nextAttempt' | 'attemptsSpend'>;
  model: ModelClient;
  environment: (name: string) => EnvironmentDefinition;
  signal?: AbortSignal;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Extra time after a rollout's deadline before the watchdog gives up on it. */
  graceMs: number;
  /** The judge for LLM-judge checks, and for rubric terms that name none. */
  judge?: ModelClient;
  /** The judges rubric terms name themselves, by spec. */
  judges?: ReadonlyMap<string, ModelClient>;
  /** Plays the simulated user of tasks that have one (the task's scripted user when absent). */
  user?: ModelClient;
  /** A model client of each attempt's own (the gateway's per-rollout route); absent: `model` serves every attempt. */
  attemptModel?: (identity: AttemptIdentity) => Promise<ModelClient>;
  /** Plays each episode instead of the agent loop (an external agent); absent: the configured scaffold. */
  driver?: EpisodeDriver;
  /** Tracks the environments' closes for the run to wait on (the process-wide tracker when absent). */
  closing?: ClosingEnvironments;
}

/**
 * What a process hears about the rollouts it handles (for metrics, never for control): `started`
 * and `ended` bracket a rollout running here (in process, on a rollout thread, on this worker);
 * `finished` carries a rollout's final record once a run stored it or a worker sent it to its run.
 * A queued run's coordinator hears only `finished`: its rollouts run on the workers. `replaced` is
 * what the infra_error record this one replaces (a resume retrying infra errors) spent: the
 * processes that ran and stored it counted that when it finished, and the new record's `spent`
 * holds it again.
 */
export type RolloutEvent = { type: 'started'; env: string } | { type: 'ended'; env: string } | { type: 'finished'; rollout: Rollout; replaced?: AttemptsSpend };

/** Judge calls are numbered after the agent's own calls so their ids never collide. */
const JUDGE_CALL_INDEX = 100_000;

/**
 * A judge function over a model client. Each judge call is recorded like any other model call
 * (purpose `judge`, a root of its own); a failing judge is an infrastructure failure, never a score.
 */
export function judgeFrom(model: ModelClient, record?: { recorder: RolloutRecorder; identity: AttemptIdentity }): Judge {
  let calls = 0;
  return async (prompt, signal) => {
    const request = { messages: [{ role: 'user' as const, content: prompt }], tools: [], sampling: { temperature: 0 } };
    const startedAt = Date.now();
    const result = await model.complete(request, { signal });
    if (record) {
      record.recorder.modelCall(modelCallRecord({ identity: record.identity, index: JUDGE_CALL_INDEX + calls++, parentId: null, purpose: 'judge', model: model.spec, request, result, startedAt, endedAt: Date.now() }));
    }
    if (!result.ok) throw new InfraError('judge', `judge ${model.spec}: ${result.kind}: ${result.message}`, { retryable: result.retryable, kind: result.kind === 'output_too_large' || result.kind === 'unusable_output' ? 'malformed_response' : result.kind });
    return result.response.message.content;
  };
}

/** Simulated-user calls are numbered after the agent's, the judge's and the rubrics'. */
const USER_CALL_INDEX = 300_000;

/** An LLM user over a model client; each of its calls is recorded with purpose `user`, a root of its own. */
export function userFrom(model: ModelClient, record: { recorder: RolloutRecorder; identity: AttemptIdentity }): UserSimulator {
  let calls = 0;
  const onCall = (call: UserCallRecord) =>
    record.recorder.modelCall(modelCallRecord({ identity: record.identity, index: USER_CALL_INDEX + calls++, parentId: null, purpose: 'user', model: model.spec, ...call }));
  return createLlmUser({ model: userModelFrom(model, { onCall }) });
}

/**
 * Seeds depend only on (run seed, task, world): re-runs and resumes see the same worlds. Epochs of
 * one group (⌊epoch / groupSize⌋) share a world, so their rollouts can be compared as a group.
 */
export function rolloutSeed(runSeed: number, taskId: string, epoch: number, groupSize = 1): number {
  const world = Math.floor(epoch / groupSize);
  return hashString(`${runSeed}:${taskId}:${world}`);
}

export function groupIdFor(runId: RunId, taskId: string, epoch: number, groupSize: number): string {
  return `${runId}/${taskId}/${Math.floor(epoch / groupSize)}`;
}

const emptyStats = { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 };

/** What a rollout's record says whatever its outcome: which task, run, attempt, seed, model and when. */
export type RolloutBase = Omit<Rollout, 'status' | 'terminationReason' | 'score' | 'passed' | 'rewardTerms' | 'reward' | 'verifier' | 'error' | 'finalAnswer' | 'stats'>;

/** The record of an episode that ended without a verdict (an infra failure, a defect, a cancel): never scored. */
export function unscoredRollout(base: RolloutBase, outcome: Exclude<EpisodeOutcome, { kind: 'done' }>): Rollout {
  const unscored = { ...base, score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null };
  switch (outcome.kind) {
    case 'infra':
      return { ...unscored, status: 'infra_error', terminationReason: 'infra_error', error: { source: outcome.source, kind: outcome.failure, message: outcome.message }, stats: emptyStats };
    case 'error':
      return { ...unscored, status: 'error', terminationReason: 'error', error: { source: outcome.source, kind: 'defect', message: outcome.message }, stats: emptyStats };
    case 'cancelled':
      return { ...unscored, status: 'cancelled', terminationReason: 'cancelled', error: null, stats: outcome.result?.stats ?? emptyStats };
  }
}

/** `total` with the attempt under way added, as a new object. */
function sumSpend(total: AttemptsSpend, attempt: AttemptSpend): AttemptsSpend {
  const sum = { ...total };
  addSpend(sum, attempt);
  return sum;
}

function addSpend(total: AttemptsSpend, attempt: AttemptSpend): void {
  total.attempts++;
  total.modelCalls += attempt.modelCalls;
  total.toolCalls += attempt.toolCalls;
  total.promptTokens += attempt.promptTokens;
  total.completionTokens += attempt.completionTokens;
}

/** What one rollout may need beyond its run's context. */
export interface RolloutOptions {
  /** Cancels this rollout alone: it is stored as `cancelled` (a cancel of the whole run leaves it missing instead). */
  signal?: AbortSignal;
  /**
   * A model per attempt, with the policy version to record on each call — for services whose
   * trainer moves the endpoint and the version while rollouts are in flight.
   */
  modelFor?: (identity: AttemptIdentity) => { model: ModelClient; policyVersion?: () => string | undefined };
  /** Called when an attempt's episode is open (its world reset), before the agent's first call: a start's own work is done. */
  onStarted?: () => void;
  /**
   * Told what the rollout has spent so far (the earlier attempts, and this process's, the one
   * under way included) each time the agent makes a model call or a tool call: a queue worker
   * keeps it with the job, so a worker that dies mid-rollout leaves what it spent counted.
   */
  onSpent?: (spent: AttemptsSpend) => void;
}

/**
 * One rollout of one task: the episode (fresh environment, the agent loop, the verifier), then
 * the score. Infra failures are retried up to `maxAttempts`; defects never are; everything the
 * model did is scored. Returns null when the run was cancelled mid-rollout (it stays missing, so
 * `--resume` runs it again).
 */
export async function executeRollout(ctx: RolloutContext, task: Task, epoch: number, options: RolloutOptions = {}): Promise<Rollout | null> {
  const id = rolloutIdFor(ctx.runId, task.id, epoch);
  const seed = rolloutSeed(ctx.config.seed, task.id, epoch, ctx.config.groupSize);
  const startedAt = ctx.now();
  let attempt = ctx.store.nextAttempt(id);
  const firstAttempt = attempt;
  const signal = ctx.signal && options.signal ? AbortSignal.any([ctx.signal, options.signal]) : (options.signal ?? ctx.signal);
  const perturbed = perturbedEpisodeFor(ctx, task);
  const reward = rewardConfigFor(ctx.config, task.env);
  let traced: ReturnType<typeof traceAttempt> | undefined;
  let outcome: EpisodeOutcome;
  // Every attempt's calls and tokens, not only the last one's: a retried attempt was paid for too,
  // and so was one an earlier process made (killed mid-attempt, or whose infra_error record this
  // rollout's record replaces), whose calls and events the store holds.
  const spent: AttemptsSpend = firstAttempt > 1 ? { ...ctx.store.attemptsSpend(id, firstAttempt) } : { attempts: 0, modelCalls: 0, toolCalls: 0, promptTokens: 0, completionTokens: 0 };
  let modelSpec = ctx.model.spec;
  for (;;) {
    const identity = { runId: ctx.runId, rolloutId: id, attempt };
    const routed = options.modelFor?.(identity) ?? (ctx.attemptModel ? { model: await ctx.attemptModel(identity) } : undefined);
    if (routed) modelSpec = routed.model.spec;
    // One recorder per attempt: a second one for the same attempt would restart its event numbering.
    // The recorder keeps in memory what the reward's process, detector and rubric terms read.
    const onSpent = options.onSpent;
    traced = traceAttempt(ctx.store.recorder(identity), {
      identity,
      now: ctx.now,
      keepCalls: rewardNeeds(reward).trajectory,
      ...(onSpent ? { onSpend: (attemptSpend: AttemptSpend) => onSpent(sumSpend(spent, attemptSpend)) } : {}),
    });
    const recorder = traced.recorder;
    outcome = await runAttempt(ctx, { task, seed, identity, recorder, ...(perturbed ? { perturbed } : {}), ...(signal ? { signal } : {}), ...(routed ? { routed } : {}), ...(options.onStarted ? { onStarted: options.onStarted } : {}) });
    addSpend(spent, traced.trace.spend);
    if (ctx.signal?.aborted) return null;
    if (options.signal?.aborted) break;
    if (outcome.kind !== 'infra' || !outcome.retryable || attempt - firstAttempt + 1 >= ctx.config.maxAttempts) break;
    recorder.event('infra_retry', { attempt, source: outcome.source, kind: outcome.failure, message: outcome.message });
    await backOff(ctx.sleep, Math.min(8000, 250 * 2 ** (attempt - firstAttempt)), signal);
    // A cancel while backing off starts no new attempt (no world reset, no sandbox, no records).
    if (ctx.signal?.aborted) return null;
    if (options.signal?.aborted) break;
    attempt++;
  }
  const base = {
    schemaVersion: SCHEMA_VERSION,
    id,
    runId: ctx.runId,
    taskId: task.id,
    env: task.env,
    epoch,
    groupId: groupIdFor(ctx.runId, task.id, epoch, ctx.config.groupSize),
    taskHash: taskHash(task),
    attempt,
    seed,
    model: modelSpec,
    scaffold: ctx.driver?.name ?? perturbed?.settings.scaffold ?? ctx.config.scaffold,
    spent,
    perturbations: perturbed?.records ?? [],
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(ctx.now()).toISOString(),
    durationMs: Math.max(0, ctx.now() - startedAt),
  };
  // This rollout's own cancel wins over whatever the interrupted episode reported.
  if (options.signal?.aborted && outcome.kind !== 'cancelled') return unscoredRollout(base, { kind: 'cancelled', result: outcome.kind === 'done' ? outcome.result : null });
  // A cancel here was not the run's own (the run's signal is checked above): recorded as such, never scored.
  if (outcome.kind !== 'done') return unscoredRollout(base, outcome);
  const { result, verifier } = outcome;
  const scored: Rollout = { ...base, status: 'scored', terminationReason: result.terminationReason, score: null, passed: verifier.passed, rewardTerms: [], verifier, error: null, finalAnswer: result.answer, stats: result.stats };
  // A judge failing here makes the rollout infra_error (source judge), never a 0.
  const rewarded = await rewardRollout(scored, {
    config: reward,
    task,
    ...(traced ? { trace: traced.trace, recorder: traced.recorder } : {}),
    ...(ctx.judge ? { judge: ctx.judge } : {}),
    ...(ctx.judges ? { judges: ctx.judges } : {}),
    ...(signal ? { signal } : {}),
    now: ctx.now,
  });
  return ctx.signal?.aborted ? null : rewarded;
}

/**
 * Waits out a retry's backoff, or less once `signal` aborts: an interrupted run does not wait up to
 * 8 s per rollout to stop. Through a signal of its own, as a whole run's rollouts may back off at
 * once and the run's one signal would carry a listener each.
 */
function backOff(sleep: (ms: number) => Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  if (signal.aborted) return Promise.resolve();
  const own = AbortSignal.any([signal]);
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      own.removeEventListener('abort', done);
      resolve();
    };
    own.addEventListener('abort', done, { once: true });
    sleep(ms).then(done, (error: unknown) => {
      own.removeEventListener('abort', done);
      reject(error);
    });
  });
}

const rewardConfigs = new WeakMap<RunConfig, Map<string, RewardConfig>>();

/**
 * The reward a task of environment `env` is composed with (validated by resolve), parsed once per
 * run: the run's own, else its environment's in `rewards`, else the default.
 */
function rewardConfigFor(config: RunConfig, env: string): RewardConfig {
  const raw = config.reward ?? (config.rewards && Object.hasOwn(config.rewards, env) ? config.rewards[env] : undefined);
  if (!raw) return DEFAULT_REWARD_CONFIG;
  let parsed = rewardConfigs.get(config);
  if (!parsed) rewardConfigs.set(config, (parsed = new Map()));
  const key = config.reward ? '' : env;
  let each = parsed.get(key);
  if (!each) {
    each = parseRewardConfig(raw, config.reward ? 'reward' : `rewards.${env}`);
    parsed.set(key, each);
  }
  return each;
}

function contextPolicy(config: RunConfig, perturbed: PerturbedEpisode | undefined): ContextPolicy | undefined {
  const spec = perturbed?.settings.context ?? config.context;
  return spec ? { budgetTokens: spec.budgetTokens, keepRecentTurns: spec.keepRecentTurns } : undefined;
}

const resolvedPerturbations = new WeakMap<RunConfig, ResolvedPerturbations>();

/**
 * The run's perturbations applied to one task (none: undefined). Pure and seeded by the run's
 * perturbation seed, so every attempt, resume and epoch of a task sees the same perturbed task.
 */
function perturbedEpisodeFor(ctx: RolloutContext, task: Task): PerturbedEpisode | undefined {
  return perturbedEpisodeOf(ctx.config, ctx.environment(task.env), task);
}

/** `perturbedEpisodeFor` from the run's config and the task's environment alone. */
export function perturbedEpisodeOf(config: RunConfig, definition: EnvironmentDefinition, task: Task): PerturbedEpisode | undefined {
  if (config.perturbations.length === 0) return undefined;
  let resolved = resolvedPerturbations.get(config);
  if (!resolved) {
    resolved = resolvePerturbations(config.perturbations, 'perturbations');
    resolvedPerturbations.set(config, resolved);
  }
  // A run's --max-turns overrides the task's limit, so `scaffold.budget` scales it, as the unperturbed rollouts get it.
  const maxTurns = config.maxTurns !== undefined ? { maxTurns: config.maxTurns } : {};
  return perturbEpisode({ task, tools: toolsOf(definition), resolved, seed: config.perturbationSeed ?? config.seed, ...maxTurns });
}

interface AttemptSpec {
  /** The task as written; a perturbed episode replaces it for reset, the agent and the oracle. */
  task: Task;
  seed: number;
  identity: AttemptIdentity;
  recorder: RolloutRecorder & { seal?(): void };
  perturbed?: PerturbedEpisode;
  signal?: AbortSignal;
  routed?: ReturnType<NonNullable<RolloutOptions['modelFor']>>;
  onStarted?: () => void;
}

/**
 * One pacer for every rollout of the process (or of a rollout thread): they share its event loop.
 * 10 ms a loop turn keeps timers well within 100 ms at a thousand rollouts, with room for the
 * reads, starts, store flushes and collections that share the loop turn (20 ms let it reach ~120).
 */
const paceTurns = createTurnPacer({ budgetMs: 10 });

async function runAttempt(ctx: RolloutContext, a: AttemptSpec): Promise<EpisodeOutcome> {
  const { recorder, perturbed } = a;
  const task = perturbed?.task ?? a.task;
  const deadlineMs = ctx.config.deadlineMs ?? task.limits.deadlineMs;
  const context = contextPolicy(ctx.config, perturbed);
  const model = a.routed?.model ?? ctx.model;
  const policyVersion = a.routed?.policyVersion ?? ctx.config.policyVersion;
  const scaffold = perturbed?.settings.scaffold ?? ctx.config.scaffold;
  return runEpisode({
    definition: ctx.environment(task.env),
    task,
    seed: perturbed ? perturbed.worldSeed(a.seed) : a.seed,
    sandbox: ctx.config.sandbox,
    ...(ctx.judge ? { judge: judgeFrom(ctx.judge, { recorder, identity: a.identity }) } : {}),
    ...(ctx.user ? { user: userFrom(ctx.user, { recorder, identity: a.identity }) } : {}),
    mcpServers: ctx.config.mcpServers,
    ...(a.signal ? { signal: a.signal } : {}),
    ...(ctx.closing ? { closing: ctx.closing } : {}),
    deadlineMs,
    graceMs: ctx.graceMs,
    now: ctx.now,
    recorder,
    drive: (episode, { deadlineAt, signal }) => {
      a.onStarted?.();
      return ctx.driver
        ? ctx.driver.drive({ task, episode, identity: a.identity, recorder, deadlineAt, now: ctx.now, ...(signal ? { signal } : {}), ...(policyVersion ? { policyVersion } : {}) })
        : runAgent({
        task,
        environment: perturbed ? perturbed.wrapEnvironment(episode.environment) : episode.environment,
        model,
        recorder,
        identity: a.identity,
        settings: {
          scaffold: scaffolds[scaffold],
          maxTurns: perturbed?.settings.maxTurns ?? ctx.config.maxTurns ?? task.limits.maxTurns,
          deadlineAt,
          sampling: ctx.config.sampling,
          rng: createRng(a.seed),
          now: ctx.now,
          requestTimeoutMs: requestTimeoutFor(ctx.config, deadlineMs),
          maxOutputBytes: ctx.config.maxOutputBytes,
          ...(policyVersion ? { policyVersion } : {}),
          ...(context ? { context } : {}),
        },
        ...(episode.observation ? { observation: episode.observation } : {}),
        ...(signal ? { signal } : {}),
        pace: paceTurns,
      });
    },
  });
}
