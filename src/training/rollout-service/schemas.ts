import { z } from 'zod';
import { AdvantageMethod } from '../advantages/index.ts';
import { TargetName } from '../export/index.ts';

// The rollout service's wire contract: what a trainer sends (validated here, every field named in
// a 400) and the NDJSON lines it reads back.

/** Policy versions are training steps: whole numbers, compared by subtraction for lag. */
/** The longest stream line either side handles: past it the service drops the group and the client stops reading. */
export const MAX_LINE_CHARS = 256 * 1024 * 1024;

export const PolicyVersion = z.number({ error: 'a whole number (the training step)' }).int('a whole number (the training step)').min(0, 'a version ≥ 0');

/** Trainer formats a batch can be streamed in: every RL export target (SFT rows carry no tokens to train on-policy). */
export const StreamFormat = z.enum(TargetName.options.filter((name) => name !== 'sft') as ['verl', 'skyrl', 'trl', 'prime-rl', 'generic'], {
  error: `one of ${TargetName.options.filter((name) => name !== 'sft').join(', ')}`,
});
export type StreamFormat = z.infer<typeof StreamFormat>;

export const BatchRequest = z.strictObject({
  /** B: how many finished groups the batch hands out. */
  groups: z.number({ error: 'a whole number of groups' }).int('a whole number of groups').min(1, 'at least 1 group').max(10_000, 'at most 10,000 groups'),
  /** G: must equal the session's group size (a trainer's group size is fixed for a run). */
  groupSize: z.number({ error: 'a whole number' }).int('a whole number').min(1, 'at least 1').optional(),
  /** The trainer's current version; must be the one last announced. */
  policyVersion: PolicyVersion,
  /** Only groups of these task ids (the session's tasks when absent). */
  tasks: z.array(z.string().min(1, 'a task id')).min(1, 'at least one task id').optional(),
  format: StreamFormat.optional(),
  /** A trainer's other row shape (`step-wise`, `async`, `legacy`). */
  variant: z.string().min(1).optional(),
  advantage: AdvantageMethod.optional(),
});
export type BatchRequest = z.infer<typeof BatchRequest>;

export const PolicyAnnouncement = z.strictObject({
  version: PolicyVersion,
  /** Where the new version is served (`http://host:port/v1`); the current endpoint when absent (weights updated in place). */
  baseUrl: z.string().min(1, 'a URL').optional(),
  /** The served model name at that endpoint; the current one when absent. */
  model: z.string().min(1, 'a model name').optional(),
});
export type PolicyAnnouncement = z.infer<typeof PolicyAnnouncement>;

/** One call of a served group: which version produced it and how far behind the trainer that is. */
export interface ServedCall {
  modelCallId: string;
  index: number;
  policyVersion: number;
  /** The trainer's version at handout minus `policyVersion`. */
  lag: number;
}

export interface VersionSpan {
  min: number;
  max: number;
}

export interface ServedRollout {
  rolloutId: string;
  epoch: number;
  reward: number;
  advantage: number;
  passed: boolean | null;
  terminationReason: string;
  turns: number;
  /** A rollout spans versions when the trainer announced one while it ran (verl's min/max_global_steps). */
  policyVersions: VersionSpan;
  calls: ServedCall[];
}

/** NDJSON lines of `GET /v1/batches/:id/stream`, in order: groups as they finish, then `done` (or `error`). */
export type StreamLine =
  | {
      type: 'group';
      batchId: string;
      /** 0-based position of this group in the batch. */
      seq: number;
      groupId: string;
      taskId: string;
      env: string;
      /** The trainer's version when the group was handed out. */
      currentVersion: number;
      policyVersions: VersionSpan;
      lag: VersionSpan;
      advantageMethod: AdvantageMethod;
      rewards: number[];
      advantages: number[];
      rollouts: ServedRollout[];
      format: { target: StreamFormat; variant: string };
      rows: object[];
    }
  | { type: 'done'; batchId: string; served: number; currentVersion: number }
  | { type: 'error'; batchId: string; message: string };
