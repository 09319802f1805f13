import { modelCallRecord, runAgent, scaffolds, type ContextPolicy } from '../agent/index.ts';
import {
  createRng,
  hashString,
  InfraError,
  rolloutIdFor,
  SCHEMA_VERSION,
  taskHash,
  type AttemptIdentity,
  type Judge,
  type ModelClient,
  type Rollout,
  type RolloutRecorder,
  type RunConfig,
  type RunId,
  type Store,
  type Task,
} from '../core/index.ts';
import type { EnvironmentDefinition } from '../envs/index.ts';
import { scoreRollout } from '../reward/index.ts';
import { runEpisode, type EpisodeOutcome } from './episode.ts';
import { requestTimeoutFor } from './resolve.ts';

export interface RolloutContext {
  runId: RunId;
  config: RunConfig;
  /** Only what a rollout writes through: a queue worker passes a buffer that travels back to the coordinator. */
  store: Pick<Store, 'recorder' | 'nextAttempt'>;
  model: ModelClient;
  environment: (name: string) => EnvironmentDefinition;
  signal?: AbortSignal;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Extra time after a rollout's deadline before the watchdog gives up on it. */
  graceMs: number;
  /** The judge for LLM-judge checks. */
  judge?: ModelClient;
}

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
    if (!result.ok) throw new InfraError('judge', `judge ${model.spec}: ${result.kind}: ${result.message}`, { retryable: result.retryable, kind: result.kind === 'output_too_large' ? 'malformed_response' : result.kind });
    return result.response.message.content;
  };
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

/** What one rollout may need beyond its run's context. */
export interface RolloutOptions {
  /** Cancels this rollout alone: it is stored as `cancelled` (a cancel of the whole run leaves it missing instead). */
  signal?: AbortSignal;
  /**
   * A model per attempt, with the policy version to record on each call — for services whose
   * trainer moves the endpoint and the version while rollouts are in flight.
   */
  modelFor?: (identity: AttemptIdentity) => { model: ModelClient; policyVersion?: () => string | undefined };
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
  let outcome: EpisodeOutcome;
  let modelSpec = ctx.model.spec;
  for (;;) {
    const identity = { runId: ctx.runId, rolloutId: id, attempt };
    const routed = options.modelFor?.(identity);
    if (routed) modelSpec = routed.model.spec;
    outcome = await runAttempt(ctx, { task, seed, identity, ...(signal ? { signal } : {}), ...(routed ? { routed } : {}) });
    if (ctx.signal?.aborted) return null;
    if (options.signal?.aborted) break;
    if (outcome.kind !== 'infra' || !outcome.retryable || attempt - firstAttempt + 1 >= ctx.config.maxAttempts) break;
    ctx.store.recorder({ runId: ctx.runId, rolloutId: id, attempt }).event('infra_retry', { attempt, source: outcome.source, kind: outcome.failure, message: outcome.message });
    await ctx.sleep(Math.min(8000, 250 * 2 ** (attempt - firstAttempt)));
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
    scaffold: ctx.config.scaffold,
    perturbations: [],
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(ctx.now()).toISOString(),
    durationMs: Math.max(0, ctx.now() - startedAt),
  };
  const unscored = { score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null };
  // This rollout's own cancel wins over whatever the interrupted episode reported.
  if (options.signal?.aborted && outcome.kind !== 'cancelled') {
    const stats = outcome.kind === 'done' ? outcome.result.stats : emptyStats;
    return { ...base, ...unscored, status: 'cancelled', terminationReason: 'cancelled', error: null, stats };
  }
  switch (outcome.kind) {
    case 'infra':
      return { ...base, ...unscored, status: 'infra_error', terminationReason: 'infra_error', error: { source: outcome.source, kind: outcome.failure, message: outcome.message }, stats: emptyStats };
    case 'error':
      return { ...base, ...unscored, status: 'error', terminationReason: 'error', error: { source: outcome.source, kind: 'defect', message: outcome.message }, stats: emptyStats };
    case 'cancelled':
      // A cancel that was not the run's own (the run's signal is checked above): recorded as such, never scored.
      return { ...base, ...unscored, status: 'cancelled', terminationReason: 'cancelled', error: null, stats: outcome.result?.stats ?? emptyStats };
    case 'done': {
      const { result, verifier } = outcome;
      const scored = scoreRollout({ verifier, terminationReason: result.terminationReason });
      return {
        ...base,
        status: 'scored',
        terminationReason: result.terminationReason,
        score: scored.score,
        passed: scored.passed,
        rewardTerms: scored.terms,
        verifier,
        error: null,
        finalAnswer: result.answer,
        stats: result.stats,
      };
    }
  }
}

function contextPolicy(config: RunConfig): ContextPolicy | undefined {
  return config.context ? { budgetTokens: config.context.budgetTokens, keepRecentTurns: config.context.keepRecentTurns } : undefined;
}

async function runAttempt(
  ctx: RolloutContext,
  a: { task: Task; seed: number; identity: AttemptIdentity; signal?: AbortSignal; routed?: ReturnType<NonNullable<RolloutOptions['modelFor']>> },
): Promise<EpisodeOutcome> {
  const recorder = ctx.store.recorder(a.identity);
  const deadlineMs = ctx.config.deadlineMs ?? a.task.limits.deadlineMs;
  const context = contextPolicy(ctx.config);
  const model = a.routed?.model ?? ctx.model;
  const policyVersion = a.routed?.policyVersion ?? ctx.config.policyVersion;
  return runEpisode({
    definition: ctx.environment(a.task.env),
    task: a.task,
    seed: a.seed,
    sandbox: ctx.config.sandbox,
    ...(ctx.judge ? { judge: judgeFrom(ctx.judge, { recorder, identity: a.identity }) } : {}),
    mcpServers: ctx.config.mcpServers,
    ...(a.signal ? { signal: a.signal } : {}),
    deadlineMs,
    graceMs: ctx.graceMs,
    now: ctx.now,
    recorder,
    drive: (episode, { deadlineAt, signal }) =>
      runAgent({
        task: a.task,
        environment: episode.environment,
        model,
        recorder,
        identity: a.identity,
        settings: {
          scaffold: scaffolds[ctx.config.scaffold],
          maxTurns: ctx.config.maxTurns ?? a.task.limits.maxTurns,
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
      }),
  });
}
