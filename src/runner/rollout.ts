import { modelCallRecord, runAgent, scaffolds, type AgentResult, type ContextPolicy, type RolloutRecorder } from '../agent/index.ts';
import {
  createRng,
  errorMessage,
  hashString,
  InfraError,
  rolloutIdFor,
  SCHEMA_VERSION,
  type Environment,
  type Judge,
  type ModelClient,
  type Rollout,
  type RunConfig,
  type RolloutId,
  type RunId,
  type Task,
  type VerifierOutcome,
} from '../core/index.ts';
import { instantiate, type EnvironmentDefinition } from '../envs/index.ts';
import { connectMcpTools, withMcpTools } from '../envs/interop/index.ts';
import { scoreRollout } from '../reward/index.ts';
import type { SqliteStore } from '../store/index.ts';

export interface RolloutContext {
  runId: RunId;
  config: RunConfig;
  store: SqliteStore;
  model: ModelClient;
  environment: (name: string) => EnvironmentDefinition;
  context?: ContextPolicy;
  signal?: AbortSignal;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Extra time after a rollout's deadline before the watchdog gives up on it. */
  graceMs: number;
  /** The judge model for LLM-judge checks. */
  judge?: ModelClient;
}

/** Judge calls are numbered after the agent's own calls so their ids never collide. */
const JUDGE_CALL_INDEX = 100_000;

/**
 * A judge function over a model client. Each judge call is recorded like any other model call
 * (purpose `judge`); a failing judge is an infrastructure failure, never a score.
 */
export function judgeFrom(model: ModelClient, record?: { recorder: RolloutRecorder; runId: RunId; rolloutId: RolloutId; attempt: number }): Judge {
  let calls = 0;
  return async (prompt, signal) => {
    const request = { messages: [{ role: 'user' as const, content: prompt }], tools: [], sampling: { temperature: 0 } };
    const startedAt = Date.now();
    const result = await model.complete(request, { signal });
    if (record) {
      const { recorder, ...identity } = record;
      recorder.modelCall(modelCallRecord({ identity, index: JUDGE_CALL_INDEX + calls++, parentId: null, purpose: 'judge', model: model.spec, request, result, startedAt, endedAt: Date.now() }));
    }
    if (!result.ok) throw new InfraError('model', `judge ${model.spec}: ${result.kind}: ${result.message}`, { retryable: result.retryable });
    return result.response.message.content;
  };
}

/** Seeds depend only on (run seed, task, epoch): re-runs and resumes see the same worlds. */
export function rolloutSeed(runSeed: number, taskId: string, epoch: number): number {
  return hashString(`${runSeed}:${taskId}:${epoch}`);
}

type AttemptOutcome =
  | { kind: 'done'; result: AgentResult; verifier: VerifierOutcome | null }
  | { kind: 'infra'; source: string; message: string; retryable: boolean };

/**
 * One rollout of one task: fresh environment, the agent loop, the verifier, the score. Infra
 * failures are retried up to `maxAttempts`; everything the model did is scored. Returns null when
 * the run was cancelled mid-rollout (it stays missing, so `--resume` runs it again).
 */
export async function executeRollout(ctx: RolloutContext, task: Task, epoch: number): Promise<Rollout | null> {
  const id = rolloutIdFor(ctx.runId, task.id, epoch);
  const seed = rolloutSeed(ctx.config.seed, task.id, epoch);
  const startedAt = ctx.now();
  let attempt = ctx.store.nextAttempt(id);
  const firstAttempt = attempt;
  let outcome: AttemptOutcome;
  for (;;) {
    outcome = await runAttempt(ctx, { task, seed, id, attempt });
    if (ctx.signal?.aborted) return null;
    if (outcome.kind === 'done' || !outcome.retryable || attempt - firstAttempt + 1 >= ctx.config.maxAttempts) break;
    ctx.store.recorder(ctx.runId, id, attempt).event('infra_retry', { attempt, source: outcome.source, message: outcome.message });
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
    attempt,
    seed,
    model: ctx.model.spec,
    scaffold: ctx.config.scaffold,
    perturbations: [],
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(ctx.now()).toISOString(),
    durationMs: Math.max(0, ctx.now() - startedAt),
  };
  if (outcome.kind === 'infra') {
    return {
      ...base,
      status: 'infra_error',
      terminationReason: 'infra_error',
      score: null,
      passed: null,
      rewardTerms: [],
      verifier: null,
      error: { source: outcome.source, message: outcome.message },
      finalAnswer: null,
      stats: { turns: 0, modelCalls: 0, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    };
  }
  const { result, verifier } = outcome;
  const scored = scoreRollout({ verifier: verifier!, terminationReason: result.terminationReason });
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

async function runAttempt(
  ctx: RolloutContext,
  a: { task: Task; seed: number; id: Rollout['id']; attempt: number },
): Promise<AttemptOutcome> {
  const recorder = ctx.store.recorder(ctx.runId, a.id, a.attempt);
  let environment: Environment | undefined;
  const deadlineMs = ctx.config.deadlineMs ?? a.task.limits.deadlineMs;
  const deadlineAt = ctx.now() + deadlineMs;
  const work = (async (): Promise<AttemptOutcome> => {
    try {
      const judge = ctx.judge ? judgeFrom(ctx.judge, { recorder, runId: ctx.runId, rolloutId: a.id, attempt: a.attempt }) : undefined;
      environment = instantiate(ctx.environment(a.task.env), { sandbox: ctx.config.sandbox, ...(judge ? { judge } : {}) });
      if (ctx.config.mcpServers.length > 0) {
        // Each rollout gets its own server processes: no state leaks between episodes.
        environment = withMcpTools(environment, await connectMcpTools({ servers: ctx.config.mcpServers }));
      }
      const reset = await environment.reset(a.task, { seed: a.seed, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const result = await runAgent({
        task: a.task,
        environment,
        model: ctx.model,
        recorder,
        identity: { runId: ctx.runId, rolloutId: a.id, attempt: a.attempt },
        settings: {
          scaffold: scaffolds[ctx.config.scaffold],
          maxTurns: ctx.config.maxTurns ?? a.task.limits.maxTurns,
          deadlineAt,
          sampling: ctx.config.sampling,
          rng: createRng(a.seed),
          now: ctx.now,
          ...(ctx.context ? { context: ctx.context } : {}),
        },
        ...(reset.observation ? { observation: reset.observation } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (result.infraError) return { kind: 'infra', ...result.infraError };
      if (result.terminationReason === 'cancelled') return { kind: 'done', result, verifier: null };
      const verifier = await environment.verify({ answer: result.answer, messages: result.history });
      recorder.event('rollout_finished', { terminationReason: result.terminationReason, passed: verifier.passed, checks: verifier.checks });
      return { kind: 'done', result, verifier };
    } catch (error) {
      if (error instanceof InfraError) return { kind: 'infra', source: error.source, message: error.message, retryable: error.retryable };
      return { kind: 'infra', source: 'environment', message: `unexpected failure: ${errorMessage(error)}`, retryable: false };
    }
  })();
  // The watchdog: whatever hangs (a tool ignoring its signal, a stuck sandbox), the rollout ends.
  let watchdog: NodeJS.Timeout | undefined;
  const expired = new Promise<AttemptOutcome>((resolve) => {
    watchdog = setTimeout(
      () => resolve({ kind: 'infra', source: 'environment', message: `rollout did not stop within ${ctx.graceMs} ms after its ${deadlineMs} ms deadline`, retryable: false }),
      deadlineMs + ctx.graceMs,
    );
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(watchdog);
    // Closing a hung environment must not hang the run either.
    void environment?.close().catch(() => {});
  }
}
