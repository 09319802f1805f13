// What travels through Redis, checked with zod on both ends: a rollout job carries everything a
// worker needs without the coordinator's store; a result carries everything the coordinator
// stores. API keys never travel: workers read their own.
import { z } from 'zod';
import { AttemptsSpend, EventType, Rollout, RolloutId, RunConfig, RunId, Task } from '../../core/index.ts';
import { Signature } from './signing.ts';

/** Version of the messages below; a worker refuses jobs of another version instead of guessing. */
export const QUEUE_PROTOCOL = 1;

/** Default tries of a rollout job whose worker threw (a missing key there, a crash); a rollout's own infra retries happen inside one try. */
export const JOB_ATTEMPTS = 5;

export const RolloutJob = z.object({
  protocol: z.literal(QUEUE_PROTOCOL),
  runId: RunId,
  rolloutId: RolloutId,
  epoch: z.number().int().nonnegative(),
  seed: z.number().int(),
  /** The attempt number the worker starts at (after attempts whose records the store already holds). */
  firstAttempt: z.number().int().positive(),
  /**
   * What the attempts before `firstAttempt` spent, as the store holds them (an earlier process's);
   * the worker's record adds it to its own attempts'. Absent when there were none (or from an older coordinator).
   */
  earlier: AttemptsSpend.optional(),
  /**
   * What the infra_error record this rollout replaces spent (a resume retrying infra errors): the
   * worker that sent it counted it in its metrics, so this one counts only what its record adds.
   */
  replaced: AttemptsSpend.optional(),
  /** Place in the run's enqueued order, for windowed takes. */
  position: z.number().int().nonnegative(),
  config: RunConfig,
  task: Task,
  taskHash: z.string(),
  /** The file the run loaded the task's environment from (`--env-module`), for a worker lacking it to name. */
  environmentFile: z.string().optional(),
  /** Where the worker sends the result. */
  resultQueue: z.string().min(1),
  /** From a coordinator holding the queue key: the MAC of everything above, bound to the job's queue and id (signing.ts). */
  signature: Signature.optional(),
});
export type RolloutJob = z.infer<typeof RolloutJob>;

/**
 * A rollout job's progress, as its worker saves it while the rollout runs (`--save-spend-every`):
 * what the rollout has spent so far, the job's `earlier` and any earlier holder's included.
 */
const JobProgress = z.object({ spent: AttemptsSpend });

/** The spend a job's progress holds, or undefined when none was saved (BullMQ's progress starts as 0). */
export function savedSpend(progress: unknown): AttemptsSpend | undefined {
  const parsed = JobProgress.safeParse(progress);
  return parsed.success ? parsed.data.spent : undefined;
}

/**
 * The result job's data: the payload is JSON text of a RolloutResult, already scrubbed of the
 * worker's API keys. Numbers JSON writes as null (a −∞ logprob, a 1e999 in a model's arguments)
 * are listed beside the result in it under the store's `$nonFinite` key (`resultPayload`); a
 * payload without that key (none to list, or an older worker) reads as it always did.
 */
export const ResultEnvelope = z.object({
  protocol: z.literal(QUEUE_PROTOCOL),
  rolloutId: RolloutId,
  attempt: z.number().int().positive(),
  /** Who ran it, for messages about duplicates and bad results. */
  worker: z.string(),
  payload: z.string(),
  /** From a worker holding the queue key: the MAC of the fields above, bound to the run's results queue and the rollout id. */
  signature: Signature.optional(),
});
export type ResultEnvelope = z.infer<typeof ResultEnvelope>;

/**
 * A model call with its history given as a delta against the previous call of the same recorder:
 * `request.messages` holds only the messages after the first `keep`; the wire body's messages the
 * same with `wireKeep`; tools marked as the previous call's are restored from it.
 */
export const EncodedCall = z.object({
  /** Checked as a ModelCall once its history is rebuilt. */
  call: z.record(z.string(), z.unknown()),
  keep: z.number().int().nonnegative(),
  wireKeep: z.number().int().nonnegative().nullable(),
  sameTools: z.boolean(),
  sameWireTools: z.boolean(),
});
export type EncodedCall = z.infer<typeof EncodedCall>;

export const RecordedEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('call'), encoded: EncodedCall }),
  /** `data` is checked against its event type's schema on arrival. */
  /** `at`: when the worker recorded it (ISO); absent from workers of earlier versions. */
  z.object({ kind: z.literal('event'), type: EventType, data: z.unknown(), at: z.iso.datetime().optional() }),
]);
export type RecordedEntry = z.infer<typeof RecordedEntry>;

/** Everything one recorder received, in order; replayed through one store recorder. */
export const RecorderSession = z.object({
  attempt: z.number().int().positive(),
  entries: z.array(RecordedEntry),
});
export type RecorderSession = z.infer<typeof RecorderSession>;

export const RolloutResult = z.object({
  rollout: Rollout,
  sessions: z.array(RecorderSession),
});
export type RolloutResult = z.infer<typeof RolloutResult>;
