// Recording labels: each body checked against what it names (the rollout, its step, the sibling,
// the queue item and its rubric), then appended. Nothing is ever updated in place: a reviewer's
// later label on the same target supersedes the earlier one when read, and both stay stored.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InputError, SCHEMA_VERSION, type Rollout, type Store } from '../core/index.ts';
import {
  checkRubricAnswers,
  labelFromRow,
  labelRow,
  labelTarget,
  Reviewer,
  RubricValue,
  ShownOrder,
  StepRating,
  Verdict,
  type PreferenceLabel,
  type ReviewLabel,
  type StepLabel,
  type VerdictLabel,
} from './model.ts';
import { findQueueItem } from './queue-read.ts';

const Text = (max: number) => z.string().max(max, `at most ${max} characters`);

export const VerdictInput = z.strictObject({
  rolloutId: z.string().min(1),
  verdict: Verdict,
  reason: Text(10_000).optional(),
  rubric: z.record(z.string(), RubricValue).optional(),
  reviewer: Reviewer,
  queueItemId: z.string().min(1).optional(),
});
export type VerdictInput = z.infer<typeof VerdictInput>;

export const StepInput = z.strictObject({
  rolloutId: z.string().min(1),
  callId: z.string().min(1),
  rating: StepRating,
  flag: z.string().trim().min(1).max(100).optional(),
  note: Text(10_000).optional(),
  reviewer: Reviewer,
});
export type StepInput = z.infer<typeof StepInput>;

export const PreferenceInput = z.strictObject({
  taskId: z.string().min(1),
  leftRolloutId: z.string().min(1),
  rightRolloutId: z.string().min(1),
  shownOrder: ShownOrder,
  choice: z.enum(['A', 'B', 'tie']),
  reason: Text(10_000).optional(),
  reviewer: Reviewer,
});
export type PreferenceInput = z.infer<typeof PreferenceInput>;

export interface LabelContext {
  store: Store;
  now?: () => Date;
  newId?: () => string;
}

function rolloutAt(store: Store, id: string, field: string): Rollout {
  const rollout = store.getRollout(id);
  if (!rollout) throw new InputError(field, `no rollout "${id}" in the store`, 'the id of a stored rollout');
  return rollout;
}

function stamp(ctx: LabelContext): { schemaVersion: typeof SCHEMA_VERSION; id: string; createdAt: string } {
  return { schemaVersion: SCHEMA_VERSION, id: ctx.newId?.() ?? `lb_${randomUUID()}`, createdAt: (ctx.now?.() ?? new Date()).toISOString() };
}

/**
 * A label that clashes with what the store holds now (a queue item reserved by another reviewer),
 * not a malformed one: the API answers it 409.
 */
export class ReviewConflictError extends InputError {
  constructor(where: string, problem: string, expected?: string) {
    super(where, problem, expected);
    this.name = 'ReviewConflictError';
  }
}

export function recordVerdict(ctx: LabelContext, input: VerdictInput): VerdictLabel {
  const rollout = rolloutAt(ctx.store, input.rolloutId, 'rolloutId');
  let rubric: Pick<VerdictLabel, 'rubric' | 'rubricHash' | 'queueId' | 'queueItemId'> = {};
  if (input.queueItemId !== undefined) {
    const found = findQueueItem(ctx.store, input.queueItemId, (ctx.now?.() ?? new Date()).getTime());
    if (!found) throw new InputError('queueItemId', `no queue item "${input.queueItemId}"`, 'an item id returned by POST /api/queues/:id/next');
    if (found.item.rolloutId !== rollout.id) throw new InputError('queueItemId', `is about rollout ${found.item.rolloutId}, not ${rollout.id}`, 'the item of the rollout being labelled');
    // Two reviewers never hold one item at once: finishing another's turn would leave theirs open on a finished item.
    if (found.heldBy && found.heldBy.reviewer !== input.reviewer) {
      throw new ReviewConflictError('queueItemId', `${found.item.id} is reserved by ${found.heldBy.reviewer} until ${new Date(found.heldBy.expiresAt).toISOString()}`, 'an item you hold (POST /api/queues/:id/next), or this one once its reservation ends');
    }
    const answers = found.queue.rubric ? checkRubricAnswers(found.queue.rubric, input.rubric ?? {}, 'rubric') : undefined;
    if (!found.queue.rubric && input.rubric && Object.keys(input.rubric).length > 0) throw new InputError('rubric', `queue ${found.queue.id} has no rubric to answer`, 'no rubric answers');
    rubric = { queueId: found.queue.id, queueItemId: found.item.id, ...(answers ? { rubric: answers, rubricHash: found.queue.rubricHash ?? undefined } : {}) };
  } else if (input.rubric && Object.keys(input.rubric).length > 0) {
    throw new InputError('rubric', 'rubric answers need the queue item whose queue defines the rubric', 'queueItemId, or no rubric');
  }
  const label: VerdictLabel = {
    ...stamp(ctx),
    kind: 'verdict',
    runId: rollout.runId,
    taskId: rollout.taskId,
    rolloutId: rollout.id,
    attempt: rollout.attempt,
    reviewer: input.reviewer,
    verdict: input.verdict,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...rubric,
  };
  ctx.store.appendReviewLabel(labelRow(label));
  return label;
}

export function recordStepLabel(ctx: LabelContext, input: StepInput): StepLabel {
  const rollout = rolloutAt(ctx.store, input.rolloutId, 'rolloutId');
  const call = ctx.store.modelCalls(rollout.id).find((c) => c.id === input.callId);
  if (!call) throw new InputError('callId', `rollout ${rollout.id} has no model call "${input.callId}"`, 'the callId of one of its steps');
  if (call.attempt !== rollout.attempt) throw new InputError('callId', `is a call of attempt ${call.attempt}, abandoned for attempt ${rollout.attempt}`, 'a step of the final attempt');
  const label: StepLabel = {
    ...stamp(ctx),
    kind: 'step',
    runId: rollout.runId,
    taskId: rollout.taskId,
    rolloutId: rollout.id,
    attempt: rollout.attempt,
    callId: call.id,
    callIndex: call.index,
    reviewer: input.reviewer,
    rating: input.rating,
    ...(input.flag !== undefined ? { flag: input.flag } : {}),
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
  ctx.store.appendReviewLabel(labelRow(label));
  return label;
}

export function recordPreference(ctx: LabelContext, input: PreferenceInput): PreferenceLabel {
  if (input.leftRolloutId === input.rightRolloutId) throw new InputError('rightRolloutId', 'is the same rollout as leftRolloutId', 'a different sibling rollout');
  const left = rolloutAt(ctx.store, input.leftRolloutId, 'leftRolloutId');
  const right = rolloutAt(ctx.store, input.rightRolloutId, 'rightRolloutId');
  for (const [field, rollout] of [['leftRolloutId', left], ['rightRolloutId', right]] as const) {
    if (rollout.taskId !== input.taskId) throw new InputError(field, `is a rollout of task ${rollout.taskId}, not ${input.taskId}`, 'a rollout of the task named by taskId');
  }
  if (left.runId !== right.runId) throw new InputError('rightRolloutId', `is in run ${right.runId}, not ${left.runId}`, 'a sibling in the same run');
  const idOf = (side: 'left' | 'right') => (side === 'left' ? left.id : right.id);
  const shown = { A: idOf(input.shownOrder[0]), B: idOf(input.shownOrder[1]) };
  const label: PreferenceLabel = {
    ...stamp(ctx),
    kind: 'preference',
    runId: left.runId,
    taskId: left.taskId,
    reviewer: input.reviewer,
    leftRolloutId: left.id,
    rightRolloutId: right.id,
    leftAttempt: left.attempt,
    rightAttempt: right.attempt,
    shownOrder: input.shownOrder,
    shown,
    choice: input.choice,
    preferredRolloutId: input.choice === 'tie' ? null : shown[input.choice],
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };
  ctx.store.appendReviewLabel(labelRow(label));
  return label;
}

/** A label as read back: whether it is its reviewer's current word on its target, and what replaced it if not. */
export type LabelView = ReviewLabel & { current: boolean; supersededBy: string | null };

/** Labels (in the order they were written) with their history resolved per reviewer and target. */
export function withHistory(labels: readonly ReviewLabel[]): LabelView[] {
  const latest = new Map<string, number>();
  const next = new Array<string | null>(labels.length).fill(null);
  labels.forEach((label, i) => {
    const key = `${label.reviewer}\u0000${labelTarget(label)}`;
    const previous = latest.get(key);
    if (previous !== undefined) next[previous] = label.id;
    latest.set(key, i);
  });
  return labels.map((label, i) => ({ ...label, current: next[i] === null, supersededBy: next[i] ?? null }));
}

/** Each reviewer's current label on each target. */
export function currentLabels(labels: readonly ReviewLabel[]): ReviewLabel[] {
  return withHistory(labels)
    .filter((l) => l.current)
    .map(({ current: _c, supersededBy: _s, ...label }) => label as ReviewLabel);
}

/** The rollouts a label judged, each with the attempt the reviewer saw (undefined on labels stored before attempts were recorded). */
export function judgedRollouts(label: ReviewLabel): { rolloutId: string; attempt: number | undefined }[] {
  return label.kind === 'preference'
    ? [
        { rolloutId: label.leftRolloutId, attempt: label.leftAttempt },
        { rolloutId: label.rightRolloutId, attempt: label.rightAttempt },
      ]
    : [{ rolloutId: label.rolloutId, attempt: label.attempt }];
}

/**
 * Whether a label judged the attempt its rollout holds now. A retry (`--retry-infra-errors`)
 * replaces a rollout's trajectory under the same id, so a label on an earlier attempt says nothing
 * about the current one. Labels stored without their attempt are placed by time: one written before
 * the rollout's current record was started cannot be about it.
 */
export function judgedCurrentAttempt(label: ReviewLabel, judged: { attempt: number | undefined }, rollout: Rollout): boolean {
  if (judged.attempt !== undefined) return judged.attempt === rollout.attempt;
  const [labelled, started] = [Date.parse(label.createdAt), Date.parse(rollout.startedAt)];
  return Number.isNaN(labelled) || Number.isNaN(started) || labelled >= started;
}

/** Why a label cannot be read as a judgment of its rollouts as they are stored now, or null when it can. */
export function staleReason(label: ReviewLabel, rolloutOf: (id: string) => Rollout | null): 'missing' | 'stale' | null {
  for (const judged of judgedRollouts(label)) {
    const rollout = rolloutOf(judged.rolloutId);
    if (!rollout) return 'missing';
    if (!judgedCurrentAttempt(label, judged, rollout)) return 'stale';
  }
  return null;
}

/** Stored labels, checked: on a rollout, in a run, or all. */
export function readLabels(store: Store, filter: { rolloutId?: string; runId?: string } = {}): ReviewLabel[] {
  return store.reviewLabels(filter).map((row) => labelFromRow(row, store.path));
}
