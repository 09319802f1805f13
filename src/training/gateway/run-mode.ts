// `gauntlet gateway --run RUN_ID`: rollouts of external agent programs recorded under one stored
// run. The run is created (or reopened, if a gateway made it) with a config saying so; each
// rollout id seen in `/rollouts/ID/...` becomes a rollout; `POST /rollouts/ID/finish` commits it,
// and a rollout still open when the gateway stops is committed as `cancelled`. What is honest:
// - a reward the client reports makes the rollout `scored` with that score (`passed` only when the
//   client says so; otherwise null, which reports list as scored without a verdict);
// - a finish without a reward is `scored` with a null score: finished, not judged; reports and
//   advantages leave it out, naming why;
// - when the last model call failed upstream the rollout is `infra_error`, whatever reward the
//   client reports; when the client itself hung up on it, `cancelled`.
import { z } from 'zod';
import {
  GAUNTLET_VERSION,
  InputError,
  parseInput,
  RunConfig,
  SCHEMA_VERSION,
  type FailureKind,
  type Rollout,
  type RolloutId,
  type RolloutStatus,
  type Run,
  type RunId,
  type RunLease,
  type Store,
  type TaskId,
  type TerminationReason,
} from '../../core/index.ts';
import type { GatewayRoute, TrackSummary } from './recording.ts';
import type { EngineSetting } from './upstream.ts';

/** What a client may say when it ends a rollout. */
export const FinishBody = z
  .object({
    /** The reward an outside judge gave the rollout. */
    reward: z.number().finite().optional(),
    passed: z.boolean().optional(),
    answer: z.string().optional(),
    /** The task the rollout ran (the rollout id when left out), so rollouts of one task form a group. */
    taskId: z.string().min(1).optional(),
    groupId: z.string().min(1).optional(),
  })
  .strict();
export type FinishBody = z.infer<typeof FinishBody>;

/** The env name and scaffold of rollouts recorded by a gateway: the agent program is outside Gauntlet. */
export const GATEWAY_ENV = 'gateway';
export const EXTERNAL_SCAFFOLD = 'external';

export interface GatewayRunOptions {
  store: Store;
  runId: string;
  /** The upstream, without credentials, for the run's config. */
  upstream: string;
  engine: EngineSetting;
  now?: () => Date;
}

function isGatewayRun(run: Run): boolean {
  const options = run.config.modelOptions.gateway;
  return options !== null && typeof options === 'object' && !Array.isArray(options);
}

export class GatewayRun {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly lease: RunLease;
  readonly runId: RunId;

  constructor(options: GatewayRunOptions) {
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.runId = options.runId as RunId;
    const existing = this.store.getRun(options.runId);
    if (existing && !isGatewayRun(existing)) {
      throw new InputError('--run', `run "${options.runId}" in ${this.store.path} was not made by a gateway`, 'a new run id, or the id of a run a gateway recorded');
    }
    if (!existing) {
      const config = parseInput(
        RunConfig,
        {
          envs: [GATEWAY_ENV],
          model: `gateway:${options.upstream}`,
          // The scaffold is the external agent's; RunConfig's own scaffold field (an enum of Gauntlet's) says nothing about it.
          modelOptions: { gateway: { upstream: options.upstream, engine: options.engine, scaffold: EXTERNAL_SCAFFOLD } },
          epochs: 1,
          concurrency: 1,
          seed: 0,
        },
        'gateway run config',
      );
      const run: Run = { schemaVersion: SCHEMA_VERSION, id: this.runId, createdAt: this.now().toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null };
      this.store.createRun(run, []);
    } else if (existing.status !== 'running') this.store.setRunStatus(options.runId, 'running');
    this.lease = this.store.acquireLease(this.runId);
  }

  /** Whether a rollout of this run was already committed (its id cannot take more calls). */
  finished(rolloutId: string): boolean {
    const rollout = this.store.getRollout(rolloutId);
    return rollout !== null && rollout.runId === this.runId;
  }

  /** A new attempt of the rollout: the store's recorder, under the next attempt number. */
  route(rolloutId: string): GatewayRoute {
    const identity = { runId: this.runId, rolloutId: rolloutId as RolloutId, attempt: this.store.nextAttempt(rolloutId) };
    return { identity, recorder: this.store.recorder(identity) };
  }

  /** Commits the rollout row for what the client said and how its calls went. */
  commit(route: GatewayRoute, summary: TrackSummary, finish: FinishBody | 'cancelled'): Rollout {
    const verdict = finish === 'cancelled' ? cancelled() : verdictOf(summary, finish);
    const ended = this.now();
    const startedAt = summary.startedAt === null ? ended : new Date(summary.startedAt);
    const body = finish === 'cancelled' ? {} : finish;
    const rollout: Rollout = {
      schemaVersion: SCHEMA_VERSION,
      id: route.identity.rolloutId,
      runId: this.runId,
      taskId: (body.taskId ?? route.identity.rolloutId) as string as TaskId,
      env: GATEWAY_ENV,
      epoch: 0,
      ...(body.groupId ? { groupId: body.groupId } : {}),
      attempt: route.identity.attempt,
      seed: 0,
      model: summary.models.join(', ') || 'unknown',
      scaffold: EXTERNAL_SCAFFOLD,
      ...verdict,
      verifier: null,
      finalAnswer: body.answer ?? null,
      stats: summary.stats,
      perturbations: [],
      startedAt: startedAt.toISOString(),
      endedAt: ended.toISOString(),
      durationMs: Math.max(0, ended.getTime() - startedAt.getTime()),
    };
    this.store.commitRollout(rollout);
    return rollout;
  }

  close(): void {
    this.store.setRunStatus(this.runId, 'finished');
    this.lease.release();
  }
}

type Verdict = Pick<Rollout, 'status' | 'terminationReason' | 'score' | 'passed' | 'rewardTerms' | 'error'>;

function cancelled(): Verdict {
  return { status: 'cancelled', terminationReason: 'cancelled', score: null, passed: null, rewardTerms: [], error: null };
}

function verdictOf(summary: TrackSummary, finish: FinishBody): Verdict {
  const last = summary.last;
  if (last && !last.ok) {
    if (last.kind === 'aborted') return cancelled();
    return { status: 'infra_error', terminationReason: 'infra_error', score: null, passed: null, rewardTerms: [], error: { source: 'model', kind: last.kind as FailureKind, message: last.message } };
  }
  const status: RolloutStatus = 'scored';
  const terminationReason: TerminationReason = last?.finishReason === 'length' ? 'output_truncated' : 'answered';
  const reward = finish.reward;
  return {
    status,
    terminationReason,
    score: reward ?? null,
    passed: finish.passed ?? null,
    rewardTerms: reward === undefined ? [] : [{ name: 'reward', value: reward, weight: 1, source: 'verifier', detail: 'reported by the client (POST /rollouts/ID/finish)' }],
    error: null,
  };
}
