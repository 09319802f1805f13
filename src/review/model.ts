// The review data model: rubrics, the three kinds of label, queues and their items. The store
// keeps these as records beside the columns it needs; they are checked here on the way in and
// on the way out, so a damaged or foreign row is an error naming it, never a silent guess.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InputError, parseInput, SCHEMA_VERSION, stableStringify, upgradeRecord, type JsonObject, type ReviewLabelRow, type ReviewQueueRow, type ReviewItemRow } from '../core/index.ts';

/** Half of a surrogate pair without its other half: text no one typed and no reader shows. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A reviewer's name as read from a stored label: in Unicode's composed form, so "José" typed with
 * a combining accent and without is one reviewer (agreement and per-reviewer counts depend on it).
 */
export const StoredReviewer = z
  .string()
  .trim()
  .min(1, 'a reviewer name')
  .max(100, 'at most 100 characters')
  .transform((name) => name.normalize('NFC'));

/** A reviewer's name as given: also printable, as it is shown back beside every label. */
export const Reviewer = z
  .string()
  .trim()
  .min(1, 'a reviewer name')
  .max(100, 'at most 100 characters')
  .refine((name) => !/\p{Cc}/u.test(name) && !LONE_SURROGATE.test(name), 'printable text (no control characters or broken surrogate pairs)')
  .transform((name) => name.normalize('NFC'));

const FieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a name of letters, digits and _ starting with a letter');
const fieldBase = { name: FieldName, description: z.string().max(500).optional(), required: z.boolean().default(false) };

/** One question of a rubric; the kinds a reviewer can answer with a click, a number, a switch or words. */
export const RubricField = z.discriminatedUnion('type', [
  z.object({ ...fieldBase, type: z.literal('categorical'), options: z.array(z.string().min(1)).min(2, 'at least two options') }),
  z.object({ ...fieldBase, type: z.literal('numeric'), min: z.number(), max: z.number(), step: z.number().positive().optional() }),
  z.object({ ...fieldBase, type: z.literal('boolean') }),
  z.object({ ...fieldBase, type: z.literal('text'), maxLength: z.number().int().positive().max(20_000).default(2000) }),
]);
export type RubricField = z.infer<typeof RubricField>;

export const Rubric = z
  .object({ fields: z.array(RubricField).min(1, 'at least one field').max(50) })
  .superRefine((rubric, ctx) => {
    const seen = new Set<string>();
    rubric.fields.forEach((field, i) => {
      if (seen.has(field.name)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `"${field.name}" appears twice` });
      seen.add(field.name);
      if (field.type === 'numeric' && !(field.min < field.max)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'max'], message: 'max must be above min' });
      if (field.type === 'categorical' && new Set(field.options).size !== field.options.length) ctx.addIssue({ code: 'custom', path: ['fields', i, 'options'], message: 'options must differ' });
    });
  });
export type Rubric = z.infer<typeof Rubric>;

export const RubricValue = z.union([z.string(), z.number(), z.boolean()]);
export type RubricValue = z.infer<typeof RubricValue>;

/** Content hash of a rubric: a verdict names the exact rubric its answers were given against. */
export function rubricHash(rubric: Rubric): string {
  return `sha256:${createHash('sha256').update(stableStringify(rubric)).digest('hex')}`;
}

/** The rubric answers checked against the rubric: every required field answered, every answer of its field's type and range. */
export function checkRubricAnswers(rubric: Rubric, answers: Record<string, RubricValue>, where: string): Record<string, RubricValue> {
  const fields = new Map(rubric.fields.map((f) => [f.name, f]));
  for (const name of Object.keys(answers)) {
    if (!fields.has(name)) throw new InputError(`${where}.${name}`, 'is not a field of the rubric', `one of ${[...fields.keys()].join(', ')}`);
  }
  for (const field of rubric.fields) {
    const at = `${where}.${field.name}`;
    const value = answers[field.name];
    if (value === undefined) {
      if (field.required) throw new InputError(at, 'is required by the rubric', describeField(field));
      continue;
    }
    const ok =
      field.type === 'categorical'
        ? typeof value === 'string' && field.options.includes(value)
        : field.type === 'numeric'
          ? typeof value === 'number' && Number.isFinite(value) && value >= field.min && value <= field.max && (field.step === undefined || isOnStep(value, field.min, field.step))
          : field.type === 'boolean'
            ? typeof value === 'boolean'
            : typeof value === 'string' && value.length <= field.maxLength;
    if (!ok) throw new InputError(at, `got ${JSON.stringify(value)}`, describeField(field));
  }
  return answers;
}

function isOnStep(value: number, min: number, step: number): boolean {
  const k = (value - min) / step;
  return Math.abs(k - Math.round(k)) < 1e-9;
}

function describeField(field: RubricField): string {
  switch (field.type) {
    case 'categorical':
      return `one of ${field.options.join(', ')}`;
    case 'numeric':
      return `a number from ${field.min} to ${field.max}${field.step !== undefined ? ` in steps of ${field.step}` : ''}`;
    case 'boolean':
      return 'true or false';
    case 'text':
      return `text of at most ${field.maxLength} characters`;
  }
}

// ── labels ───────────────────────────────────────────────────────────────────────────────

export const VERDICTS = ['accept', 'reject', 'unsafe'] as const;
export const Verdict = z.enum(VERDICTS);
export type Verdict = z.infer<typeof Verdict>;

export const StepRating = z.union([z.literal(-1), z.literal(0), z.literal(1)], { error: '-1, 0 or 1' });
export type StepRating = z.infer<typeof StepRating>;

export const Side = z.enum(['left', 'right']);
export const ShownOrder = z
  .tuple([Side, Side])
  .refine(([a, b]) => a !== b, { message: "both sides once, in the order shown: ['left','right'] or ['right','left']" });
export type ShownOrder = z.infer<typeof ShownOrder>;

const labelBase = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: z.string().min(1),
  runId: z.string().min(1),
  taskId: z.string().min(1),
  reviewer: StoredReviewer,
  createdAt: z.string(),
};

export const VerdictLabel = z.object({
  ...labelBase,
  kind: z.literal('verdict'),
  rolloutId: z.string().min(1),
  /** The rollout's attempt the reviewer saw; a retry replaces the trajectory (absent on labels stored before it was recorded). */
  attempt: z.number().int().positive().optional(),
  verdict: Verdict,
  reason: z.string().optional(),
  /** Answers to the queue's rubric, checked against it when given. */
  rubric: z.record(z.string(), RubricValue).optional(),
  rubricHash: z.string().optional(),
  queueId: z.string().optional(),
  queueItemId: z.string().optional(),
});
export type VerdictLabel = z.infer<typeof VerdictLabel>;

export const StepLabel = z.object({
  ...labelBase,
  kind: z.literal('step'),
  rolloutId: z.string().min(1),
  attempt: z.number().int().positive().optional(),
  /** The model call rated, and its index within the attempt (the step's place in the trajectory). */
  callId: z.string().min(1),
  callIndex: z.number().int().nonnegative(),
  rating: StepRating,
  /** A short tag for what is wrong or notable (a detector category such as `test_tampering` where one fits). */
  flag: z.string().optional(),
  note: z.string().optional(),
});
export type StepLabel = z.infer<typeof StepLabel>;

/**
 * A preference between two sibling rollouts. The client randomises which is shown first (A) and
 * second (B); `shownOrder` says which of left/right was A and which B, `shown` resolves that to
 * rollout ids, and `preferredRolloutId` is the winner (null for a tie).
 */
export const PreferenceLabel = z.object({
  ...labelBase,
  kind: z.literal('preference'),
  leftRolloutId: z.string().min(1),
  rightRolloutId: z.string().min(1),
  /** The attempts of the two rollouts the reviewer compared. */
  leftAttempt: z.number().int().positive().optional(),
  rightAttempt: z.number().int().positive().optional(),
  shownOrder: ShownOrder,
  shown: z.object({ A: z.string().min(1), B: z.string().min(1) }),
  choice: z.enum(['A', 'B', 'tie']),
  preferredRolloutId: z.string().nullable(),
  reason: z.string().optional(),
});
export type PreferenceLabel = z.infer<typeof PreferenceLabel>;

export const ReviewLabel = z.discriminatedUnion('kind', [VerdictLabel, StepLabel, PreferenceLabel]);
export type ReviewLabel = z.infer<typeof ReviewLabel>;

/** What a later label by the same reviewer replaces in reading: the same rollout's verdict, the same step's rating, the same pair's preference. */
export function labelTarget(label: ReviewLabel): string {
  switch (label.kind) {
    case 'verdict':
      return `verdict:${label.rolloutId}`;
    case 'step':
      return `step:${label.rolloutId}:${label.callId}`;
    case 'preference':
      return `preference:${[label.leftRolloutId, label.rightRolloutId].sort().join('|')}`;
  }
}

export function labelRow(label: ReviewLabel): ReviewLabelRow {
  const rollouts = label.kind === 'preference' ? { rolloutId: label.leftRolloutId, otherRolloutId: label.rightRolloutId } : { rolloutId: label.rolloutId, otherRolloutId: null };
  const queueItemId = label.kind === 'verdict' ? (label.queueItemId ?? null) : null;
  return {
    id: label.id,
    kind: label.kind,
    runId: label.runId,
    ...rollouts,
    reviewer: label.reviewer,
    queueItemId,
    completesItem: queueItemId !== null,
    createdAt: label.createdAt,
    record: label as unknown as JsonObject,
  };
}

export function labelFromRow(row: ReviewLabelRow, storePath: string): ReviewLabel {
  const where = `${storePath}: review label ${row.id}`;
  const upgraded = upgradeRecord('label', row.record, where);
  if (upgraded === null) throw new InputError(where, 'the record was retired by an upgrade', 'a current review label');
  return parseInput(ReviewLabel, upgraded, where);
}

// ── queues ───────────────────────────────────────────────────────────────────────────────

export const STRATEGIES = ['disagreement', 'flagged', 'random', 'reward_jump', 'high_reward_flagged'] as const;
export const Strategy = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof Strategy>;

export const ReviewQueue = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: z.string().min(1),
  runId: z.string().min(1),
  createdAt: z.string(),
  strategy: Strategy,
  /** Items asked for; `size` is how many the strategy found (never more). */
  sample: z.number().int().positive(),
  size: z.number().int().nonnegative(),
  reviewersPerItem: z.number().int().positive(),
  reservationMs: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  rubric: Rubric.nullable(),
  rubricHash: z.string().nullable(),
  /** What the strategy compared or found, in a sentence (the earlier training step, the detector coverage). */
  note: z.string().optional(),
});
export type ReviewQueue = z.infer<typeof ReviewQueue>;

export const ReviewItem = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: z.string().min(1),
  queueId: z.string().min(1),
  position: z.number().int().nonnegative(),
  rolloutId: z.string().min(1),
  taskId: z.string().min(1),
  /** Why the strategy picked it, for the reviewer. */
  reason: z.string(),
});
export type ReviewItem = z.infer<typeof ReviewItem>;

export function queueRow(queue: ReviewQueue): ReviewQueueRow {
  return { id: queue.id, runId: queue.runId, createdAt: queue.createdAt, reviewersPerItem: queue.reviewersPerItem, reservationMs: queue.reservationMs, record: queue as unknown as JsonObject };
}

export function queueFromRow(row: ReviewQueueRow, storePath: string): ReviewQueue {
  return parseInput(ReviewQueue, row.record, `${storePath}: review queue ${row.id}`);
}

export function itemRow(item: ReviewItem): ReviewItemRow {
  return { id: item.id, queueId: item.queueId, position: item.position, rolloutId: item.rolloutId, record: item as unknown as JsonObject };
}

export function itemFromRow(row: ReviewItemRow, storePath: string): ReviewItem {
  return parseInput(ReviewItem, row.record, `${storePath}: review item ${row.id}`);
}
