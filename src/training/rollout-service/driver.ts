// One rollout of the service: the runner's episode lifecycle (runEpisode) driving the agent loop,
// with infra-only retries and scoring as `executeRollout` does them. It exists because the service
// needs what executeRollout cannot yet take: a model routed per call to the announced endpoint and
// the policy version read at every call (see docs/design/rollout-service.md).
import { runAgent, scaffolds } from '../../agent/index.ts';
import {
  createRng,
  rolloutIdFor,
  SCHEMA_VERSION,
  taskHash,
  type AttemptIdentity,
  type ModelClient,
  type Rollout,
  type RunConfig,
  type RunId,
  type Store,
  type Task,
} from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { scoreRollout } from '../../reward/index.ts';
import { groupIdFor, judgeFrom, requestTimeoutFor, rolloutSeed, runEpisode, type EpisodeOutcome } from '../../runner/index.ts';
import { routedModel, type PolicyEndpoints } from './policy.ts';

export interface DriverContext {
  runId: RunId;
  config: RunConfig;
  store: Store;
  endpoints: PolicyEndpoints;
  environment: (name: string) => EnvironmentDefinition;
  judge?: ModelClient;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  graceMs: number;
}

/** A model call about to be sent: the scheduler tracks each group's oldest version from these. */
export interface CallNotice {
  rolloutId: string;
  attempt: number;
  version: number;
}

export interface RolloutSpec {
  task: Task;
  epoch: number;
  signal: AbortSignal;
  onCall(notice: CallNotice): void;
}

const emptyStats = { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 };

/** Runs a rollout to a stored-ready record: scored, infra_error, error, or cancelled when `signal` fired. */
export async function driveRollout(ctx: DriverContext, spec: RolloutSpec): Promise<Rollout> {
  const { task, epoch, signal } = spec;
  const id = rolloutIdFor(ctx.runId, task.id, epoch);
  const seed = rolloutSeed(ctx.config.seed, task.id, epoch, ctx.config.groupSize);
  const startedAt = ctx.now();
  const model = ctx.endpoints.current.spec;
  let attempt = ctx.store.nextAttempt(id);
  const firstAttempt = attempt;
  let outcome: EpisodeOutcome;
  for (;;) {
    outcome = await runAttempt(ctx, { spec, seed, identity: { runId: ctx.runId, rolloutId: id, attempt } });
    if (signal.aborted || outcome.kind !== 'infra' || !outcome.retryable || attempt - firstAttempt + 1 >= ctx.config.maxAttempts) break;
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
    model,
    scaffold: ctx.config.scaffold,
    perturbations: [],
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(ctx.now()).toISOString(),
    durationMs: Math.max(0, ctx.now() - startedAt),
  };
  const unscored = { score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null };
  // The service's own cancel wins over whatever the interrupted episode reported.
  if (signal.aborted || outcome.kind === 'cancelled') {
    const stats = outcome.kind === 'cancelled' || outcome.kind === 'done' ? (outcome.result?.stats ?? emptyStats) : emptyStats;
    return { ...base, ...unscored, status: 'cancelled', terminationReason: 'cancelled', error: null, stats };
  }
  switch (outcome.kind) {
    case 'infra':
      return { ...base, ...unscored, status: 'infra_error', terminationReason: 'infra_error', error: { source: outcome.source, kind: outcome.failure, message: outcome.message }, stats: emptyStats };
    case 'error':
      return { ...base, ...unscored, status: 'error', terminationReason: 'error', error: { source: outcome.source, kind: 'defect', message: outcome.message }, stats: emptyStats };
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

async function runAttempt(ctx: DriverContext, a: { spec: RolloutSpec; seed: number; identity: AttemptIdentity }): Promise<EpisodeOutcome> {
  const { task, signal } = a.spec;
  const recorder = ctx.store.recorder(a.identity);
  const deadlineMs = ctx.config.deadlineMs ?? task.limits.deadlineMs;
  const model = routedModel(ctx.endpoints, (version) => a.spec.onCall({ rolloutId: a.identity.rolloutId, attempt: a.identity.attempt, version }));
  const context = ctx.config.context;
  return runEpisode({
    definition: ctx.environment(task.env),
    task,
    seed: a.seed,
    sandbox: ctx.config.sandbox,
    ...(ctx.judge ? { judge: judgeFrom(ctx.judge, { recorder, identity: a.identity }) } : {}),
    mcpServers: ctx.config.mcpServers,
    signal,
    deadlineMs,
    graceMs: ctx.graceMs,
    now: ctx.now,
    recorder,
    drive: (episode, drive) =>
      runAgent({
        task,
        environment: episode.environment,
        model,
        recorder,
        identity: a.identity,
        settings: {
          scaffold: scaffolds[ctx.config.scaffold],
          maxTurns: ctx.config.maxTurns ?? task.limits.maxTurns,
          deadlineAt: drive.deadlineAt,
          sampling: ctx.config.sampling,
          rng: createRng(a.seed),
          now: ctx.now,
          requestTimeoutMs: requestTimeoutFor(ctx.config, deadlineMs),
          maxOutputBytes: ctx.config.maxOutputBytes,
          // Read after every call: the version of the endpoint that call went to.
          policyVersion: () => (model.lastVersion === undefined ? undefined : String(model.lastVersion)),
          ...(context ? { context: { budgetTokens: context.budgetTokens, keepRecentTurns: context.keepRecentTurns } } : {}),
        },
        ...(episode.observation ? { observation: episode.observation } : {}),
        ...(drive.signal ? { signal: drive.signal } : {}),
      }),
  });
}
