// One rollout of the service: the runner's own `executeRollout` (episode lifecycle, infra-only
// retries, scoring), with a model routed at every call to the endpoint the trainer last announced
// and each call tagged with the version that endpoint serves.
import type { ModelClient, Rollout, RunConfig, RunId, Store, Task } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { executeRollout } from '../../runner/index.ts';
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
  /** The episode is open (see RolloutOptions.onStarted). */
  onStarted?: () => void;
}

/** Runs a rollout to a stored-ready record: scored, infra_error, error, or cancelled when `signal` fired. */
export async function driveRollout(ctx: DriverContext, spec: RolloutSpec): Promise<Rollout> {
  const rollout = await executeRollout(
    {
      runId: ctx.runId,
      config: ctx.config,
      store: ctx.store,
      model: ctx.endpoints.current.client,
      environment: ctx.environment,
      now: ctx.now,
      sleep: ctx.sleep,
      graceMs: ctx.graceMs,
      ...(ctx.judge ? { judge: ctx.judge } : {}),
    },
    spec.task,
    spec.epoch,
    {
      signal: spec.signal,
      ...(spec.onStarted ? { onStarted: spec.onStarted } : {}),
      modelFor: (identity) => {
        const model = routedModel(ctx.endpoints, (version) => spec.onCall({ rolloutId: identity.rolloutId, attempt: identity.attempt, version }));
        // Read after every call: the version of the endpoint that call went to.
        return { model, policyVersion: () => (model.lastVersion === undefined ? undefined : String(model.lastVersion)) };
      },
    },
  );
  // Without a run-wide signal, executeRollout always returns a record.
  if (!rollout) throw new Error('executeRollout returned no record without a run-wide cancel');
  return rollout;
}
