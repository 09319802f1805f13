// What the review API sends, as the browser checks it. The server (src/server/api, src/review)
// owns these shapes; the browser cannot import them (they pull in Node), so they are restated
// here and test/web/contract.test.ts parses the real server's answers with them. Objects are
// loose (fields the page does not read pass), but a missing or mistyped field it does read is
// reported with its path instead of rendering `undefined`.
import './zod-jitless.ts';
import { z } from 'zod';

const num = z.number();
const count = z.number().int().nonnegative();
/** What a rollout's (or a run's) attempts spent, retried ones included. */
const Spent = z.looseObject({ attempts: count, modelCalls: count, toolCalls: count, promptTokens: count, completionTokens: count });
const rate = z.number().min(0).max(1).nullable();

export const RolloutStatus = z.enum(['scored', 'infra_error', 'error', 'cancelled']);
export type RolloutStatus = z.infer<typeof RolloutStatus>;
export const ROLLOUT_STATUSES = RolloutStatus.options;
export const RUN_STATUSES = ['running', 'finished', 'interrupted'] as const;

export const Page = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item), nextCursor: z.string().nullable() });
export type Page<T> = { items: T[]; nextCursor: string | null };

/** Counts by status and the rates over scored rollouts only (infra errors and defects never count). */
export const RateSummary = z.looseObject({
  total: count,
  byStatus: z.record(z.string(), count),
  scored: count,
  passed: count,
  pooledPassRate: rate,
  taskMeanPassRate: rate,
  meanScore: z.number().nullable(),
});
export type RateSummary = z.infer<typeof RateSummary>;

const headline = {
  id: z.string(),
  createdAt: z.string(),
  status: z.string(),
  envs: z.array(z.string()),
  model: z.string(),
  scaffold: z.string(),
  policyVersion: z.string().nullable(),
  trainingStep: z.number().nullable(),
  epochs: count,
  summary: RateSummary,
};
export const RunHeadline = z.looseObject(headline);
export type RunHeadline = z.infer<typeof RunHeadline>;

export const TaskRate = z.looseObject({ taskId: z.string(), rollouts: count, scored: count, passed: count, passRate: rate, meanScore: z.number().nullable() });
export type TaskRate = z.infer<typeof TaskRate>;
export const HistogramBin = z.looseObject({ from: num, to: num, count });
export type HistogramBin = z.infer<typeof HistogramBin>;
export const PerturbationRate = z.looseObject({ perturbation: z.string(), scored: count, passed: count, passRate: rate });
export type PerturbationRate = z.infer<typeof PerturbationRate>;
export const FlagCounts = z.looseObject({ examined: count, flagged: count, byCategory: z.record(z.string(), count) });

export const RunDetail = z.looseObject({
  ...headline,
  run: z.looseObject({ id: z.string(), config: z.record(z.string(), z.unknown()) }),
  perTask: z.array(TaskRate),
  scoreHistogram: z.array(HistogramBin),
  terminationCounts: z.record(z.string(), count),
  perPerturbation: z.array(PerturbationRate),
  flags: FlagCounts,
  toolCalls: z.record(z.string(), count),
  /** Every attempt's model calls, tool calls and tokens, retried ones included. */
  spent: Spent,
});
export type RunDetail = z.infer<typeof RunDetail>;

export const LabelCounts = z.looseObject({ verdict: count, step: count, preference: count });

/** A line of a run's rollout table (also a sibling). `flags` is null where the detectors did not examine it. */
export const RolloutRow = z.looseObject({
  id: z.string(),
  taskId: z.string(),
  epoch: count,
  groupId: z.string().nullable(),
  status: RolloutStatus,
  terminationReason: z.string(),
  score: z.number().nullable(),
  passed: z.boolean().nullable(),
  turns: count,
  toolCalls: count,
  durationMs: z.number().nonnegative(),
  flags: count.nullable(),
  labels: LabelCounts,
});
export type RolloutRow = z.infer<typeof RolloutRow>;
export const RolloutPage = Page(RolloutRow).extend({ total: count.optional() });

export const ToolCall = z.looseObject({
  id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()).nullable(),
  argumentsText: z.string(),
  parseError: z.string().optional(),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const Message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content: z.string() }),
  z.looseObject({ role: z.literal('user'), content: z.string() }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.string(),
    reasoning: z.looseObject({ text: z.string() }).optional(),
    toolCalls: z.array(ToolCall).default([]),
  }),
  z.looseObject({ role: z.literal('tool'), toolCallId: z.string(), name: z.string(), content: z.string(), isError: z.boolean().default(false) }),
]);
export type Message = z.infer<typeof Message>;

export const ToolResult = z.looseObject({ toolCallId: z.string(), name: z.string(), ok: z.boolean(), content: z.string() });
export type ToolResult = z.infer<typeof ToolResult>;

export const DetectionFlag = z.looseObject({
  category: z.string(),
  detector: z.string(),
  severity: z.enum(['low', 'medium', 'high']),
  evidence: z.looseObject({ callIndex: count, excerpt: z.string() }),
  reason: z.string().optional(),
});
export type DetectionFlag = z.infer<typeof DetectionFlag>;

export const Step = z.looseObject({
  /** The call's index within its attempt: what detector evidence points at. */
  index: count,
  callId: z.string(),
  purpose: z.string(),
  parentId: z.string().nullable(),
  /** `delta`: only the messages this call added to its parent's context; otherwise its whole prompt. */
  request: z.looseObject({ delta: z.boolean(), messages: z.array(Message) }),
  response: z
    .looseObject({
      reasoning: z.string().nullable(),
      content: z.string(),
      toolCalls: z.array(ToolCall),
      finishReason: z.string(),
    })
    .nullable(),
  error: z.looseObject({ kind: z.string(), message: z.string() }).nullable(),
  toolResults: z.array(ToolResult),
  latencyMs: z.number().nonnegative(),
  usage: z.looseObject({ promptTokens: count.optional(), completionTokens: count.optional(), reasoningTokens: count.optional() }),
  flags: z.array(DetectionFlag),
});
export type Step = z.infer<typeof Step>;

export const RewardTerm = z.looseObject({ name: z.string(), value: num, weight: num, source: z.string() });
export type RewardTerm = z.infer<typeof RewardTerm>;
export const CheckResult = z.looseObject({ name: z.string(), kind: z.string(), passed: z.boolean(), detail: z.string().optional() });
export type CheckResult = z.infer<typeof CheckResult>;
export const VerifierOutcome = z.looseObject({ passed: z.boolean(), score: num, checks: z.array(CheckResult) });

export const Verdict = z.enum(['accept', 'reject', 'unsafe']);
export type Verdict = z.infer<typeof Verdict>;
export const RubricValue = z.union([z.string(), z.number(), z.boolean()]);
export type RubricValue = z.infer<typeof RubricValue>;

const labelBase = {
  id: z.string(),
  reviewer: z.string(),
  createdAt: z.string(),
  taskId: z.string(),
  /** Whether this is its reviewer's latest word on its target; older ones are history. */
  current: z.boolean().optional(),
  supersededBy: z.string().nullable().optional(),
};
export const VerdictLabel = z.looseObject({
  ...labelBase,
  kind: z.literal('verdict'),
  rolloutId: z.string(),
  verdict: Verdict,
  reason: z.string().optional(),
  rubric: z.record(z.string(), RubricValue).optional(),
  queueItemId: z.string().optional(),
});
export const StepLabel = z.looseObject({
  ...labelBase,
  kind: z.literal('step'),
  rolloutId: z.string(),
  callId: z.string(),
  callIndex: count,
  rating: z.union([z.literal(-1), z.literal(0), z.literal(1)]),
  flag: z.string().optional(),
  note: z.string().optional(),
});
export const PreferenceLabel = z.looseObject({
  ...labelBase,
  kind: z.literal('preference'),
  leftRolloutId: z.string(),
  rightRolloutId: z.string(),
  shownOrder: z.tuple([z.enum(['left', 'right']), z.enum(['left', 'right'])]),
  shown: z.looseObject({ A: z.string(), B: z.string() }),
  choice: z.enum(['A', 'B', 'tie']),
  preferredRolloutId: z.string().nullable(),
  reason: z.string().optional(),
});
export const Label = z.discriminatedUnion('kind', [VerdictLabel, StepLabel, PreferenceLabel]);
export type Label = z.infer<typeof Label>;
export type VerdictLabel = z.infer<typeof VerdictLabel>;
export type StepLabel = z.infer<typeof StepLabel>;
export type PreferenceLabel = z.infer<typeof PreferenceLabel>;
export const LabelReply = z.looseObject({ label: Label });

export const Detections = z.discriminatedUnion('examined', [
  z.looseObject({ examined: z.literal(true), detectors: z.array(z.string()), flags: z.array(DetectionFlag) }),
  z.looseObject({ examined: z.literal(false) }),
]);

export const RolloutDetail = z.looseObject({
  rollout: z.looseObject({
    id: z.string(),
    runId: z.string(),
    taskId: z.string(),
    env: z.string(),
    epoch: count,
    groupId: z.string().optional(),
    attempt: z.number().int().positive(),
    model: z.string(),
    scaffold: z.string(),
    status: RolloutStatus,
    terminationReason: z.string(),
    score: z.number().nullable(),
    passed: z.boolean().nullable(),
    durationMs: z.number().nonnegative(),
    finalAnswer: z.string().nullable(),
    error: z.looseObject({ source: z.string(), message: z.string() }).nullable(),
    perturbations: z.array(z.looseObject({ name: z.string() })),
    /** Absent in records of an older Gauntlet. */
    spent: Spent.optional(),
  }),
  /** The task as the run ran it (null when the run's stored tasks do not include it). */
  task: z.record(z.string(), z.unknown()).nullable(),
  steps: z.array(Step),
  rewardTerms: z.array(RewardTerm),
  reward: z.number().nullable().optional(),
  verifier: VerifierOutcome.nullable(),
  detections: Detections,
  labels: z.array(Label),
  siblings: z.array(RolloutRow),
});
export type RolloutDetail = z.infer<typeof RolloutDetail>;

const fieldBase = { name: z.string(), description: z.string().optional(), required: z.boolean().optional() };
export const RubricField = z.discriminatedUnion('type', [
  z.looseObject({ ...fieldBase, type: z.literal('categorical'), options: z.array(z.string()).min(1) }),
  z.looseObject({ ...fieldBase, type: z.literal('numeric'), min: num, max: num, step: num.optional() }),
  z.looseObject({ ...fieldBase, type: z.literal('boolean') }),
  z.looseObject({ ...fieldBase, type: z.literal('text'), maxLength: count.optional() }),
]);
export type RubricField = z.infer<typeof RubricField>;
export const Rubric = z.looseObject({ fields: z.array(RubricField) });
export type Rubric = z.infer<typeof Rubric>;

export const QUEUE_STRATEGIES = ['disagreement', 'flagged', 'random', 'reward_jump', 'high_reward_flagged'] as const;
export const QueueStrategy = z.enum(QUEUE_STRATEGIES);
export type QueueStrategy = z.infer<typeof QueueStrategy>;

export const QueueProgress = z.looseObject({ items: count, done: count, held: count, labelsNeeded: count });
export const Queue = z.looseObject({
  id: z.string(),
  runId: z.string(),
  createdAt: z.string(),
  strategy: QueueStrategy,
  sample: count,
  /** Rollouts the strategy found (never more than `sample`). */
  size: count,
  reviewersPerItem: z.number().int().positive(),
  reservationMs: count,
  rubric: Rubric.nullable(),
  /** What the strategy compared or found, in a sentence. */
  note: z.string().optional(),
  progress: QueueProgress,
});
export type Queue = z.infer<typeof Queue>;

export const QueueItem = z.looseObject({
  id: z.string(),
  queueId: z.string(),
  position: count,
  rolloutId: z.string(),
  taskId: z.string(),
  /** Why the strategy picked it. */
  reason: z.string(),
  doneBy: z.array(z.string()),
  heldBy: z.looseObject({ reviewer: z.string(), until: z.string() }).nullable(),
});
export type QueueItem = z.infer<typeof QueueItem>;
export const QueueReply = z.looseObject({ queue: Queue });
export const QueueDetail = z.looseObject({ queue: Queue, items: z.array(QueueItem) });
export const NextItem = z.looseObject({ item: QueueItem.nullable(), progress: QueueProgress });

export const AlphaEstimate = z.looseObject({
  level: z.string(),
  alpha: z.number().nullable(),
  ci: z.tuple([num, num]).nullable(),
  confidence: num,
  units: count,
  values: count,
  reviewers: count,
});
export const PairKappa = z.looseObject({ reviewers: z.tuple([z.string(), z.string()]), kappa: z.number().nullable(), n: count });
export const AgreementBlock = z.looseObject({ alpha: AlphaEstimate, kappa: z.array(PairKappa) });
export type AgreementBlock = z.infer<typeof AgreementBlock>;
export const DetectorScore = z.looseObject({
  name: z.string(),
  truePositives: count,
  falsePositives: count,
  falseNegatives: count,
  trueNegatives: count,
  precision: rate,
  recall: rate,
});
export type DetectorScore = z.infer<typeof DetectorScore>;
export const ReviewStats = z.looseObject({
  scope: z.looseObject({ runId: z.string().nullable(), queueId: z.string().nullable(), labels: count, reviewers: z.array(z.string()) }),
  verdicts: AgreementBlock,
  steps: AgreementBlock,
  preferences: AgreementBlock,
  detectors: z.looseObject({ reviewedRollouts: count, examinedRollouts: count, byCategory: z.array(DetectorScore), byDetector: z.array(DetectorScore) }),
});
export type ReviewStats = z.infer<typeof ReviewStats>;

export const MonitoringPoint = z.looseObject({
  policyVersion: z.string(),
  trainingStep: z.number().nullable(),
  runs: z.array(z.string()),
  rollouts: count,
  rewardMean: z.number().nullable(),
  passRate: rate,
  flagRate: rate,
  flagRates: z.record(z.string(), num),
  /** Shell commands as a share of all tool calls. */
  bashCommandRate: rate,
  bashCommandsPerRollout: z.number().nullable(),
  /** Completion tokens per model call. */
  responseTokensMean: z.number().nullable(),
});
export type MonitoringPoint = z.infer<typeof MonitoringPoint>;
export const Monitoring = z.looseObject({ points: z.array(MonitoringPoint) });

export const ReportEntry = z.looseObject({ name: z.string(), kind: z.string().nullable(), bytes: count, modifiedAt: z.string(), problem: z.string().optional() });
export type ReportEntry = z.infer<typeof ReportEntry>;
export const Report = z.looseObject({ name: z.string(), kind: z.string(), report: z.unknown() });

export const TaskValidation = z.looseObject({
  valid: z.boolean(),
  problems: z.array(z.looseObject({ field: z.string(), message: z.string() })),
  golden: VerifierOutcome.nullable(),
});
export type TaskValidation = z.infer<typeof TaskValidation>;
export const SavedTask = z.looseObject({ path: z.string(), validation: TaskValidation });

/** Whether the server may write its store; a read-only one (with why) takes no labels, queues or tasks. */
export const StoreAccess = z.looseObject({ readOnly: z.boolean(), reason: z.string().nullable() });
export type StoreAccess = z.infer<typeof StoreAccess>;

export const ErrorBody = z.looseObject({ error: z.looseObject({ message: z.string(), field: z.string().nullable().optional(), expected: z.string().optional() }) });
