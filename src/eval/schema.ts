// The JSON shape of an evaluation report. Every key is always present (nulls and zero counts
// instead of missing keys), so dashboards and `gauntlet compare` can read any report the same way.
// Reports of an earlier version are upgraded on read (see upgrade.ts).
import { z } from 'zod';
import { JsonObject, JsonValue, RolloutStatus, TerminationReason } from '../core/index.ts';
import { upgradeEvalReport } from './upgrade.ts';

/** 2: exact intervals for degenerate pass rates, pooled and per-task pass rates, the exact-test power model. */
export const EVAL_REPORT_VERSION = 2 as const;

const Probability = z.number().min(0).max(1);
const Count = z.number().int().nonnegative();

/** What the caller asks for; `seed` is required so every interval can be reproduced. */
export const EvalOptions = z
  .object({
    seed: z.number().int(),
    /** Bootstrap resamples (and Monte Carlo permutations in comparisons). */
    resamples: z.number().int().min(1).max(1_000_000).default(10_000),
    confidence: z.number().gt(0).lt(1).default(0.95),
    /** The smallest difference in pass rate worth detecting; warnings say which n it needs. */
    minEffect: z.number().gt(0).lt(1).optional(),
    power: z.number().gt(0).lt(1).default(0.8),
    alpha: z.number().gt(0).lt(1).default(0.05),
  })
  .strict();
export type EvalOptions = z.infer<typeof EvalOptions>;
export type EvalOptionsInput = z.input<typeof EvalOptions>;

/** The options a report was computed with, defaults filled in. */
export const ResolvedEvalOptions = z.object({
  seed: z.number().int(),
  resamples: z.number().int(),
  confidence: z.number(),
  minEffect: z.number().nullable(),
  power: z.number(),
  alpha: z.number(),
});
export type ResolvedEvalOptions = z.infer<typeof ResolvedEvalOptions>;

/** Reproducibility block: the caller fills it; the report passes it through unchanged. */
export const EvalMeta = z.object({
  gauntletVersion: z.string(),
  /** The suite/run configuration as the caller wants it recorded. */
  config: JsonObject,
  /** Named seeds (`eval` is the bootstrap seed; runs may add theirs, e.g. `run_…`). */
  seeds: z.record(z.string(), z.number().int()),
  models: z.array(z.object({ runId: z.string(), model: z.string() }).catchall(JsonValue)),
  /** Sampling parameters per run id. */
  sampling: z.record(z.string(), JsonObject),
  createdAt: z.string().nullable(),
});
export type EvalMeta = z.infer<typeof EvalMeta>;

const Interval = z.tuple([z.number(), z.number()]);

/**
 * Clopper–Pearson interval over tasks, given where a bootstrap interval has zero width. The
 * successes are the sum of per-task pass rates (the number of tasks passed when each task passed
 * or failed outright): a mean of values in [0, 1] can vary no more than a binomial proportion.
 */
export const ExactInterval = z.object({
  method: z.literal('clopper-pearson'),
  successes: z.number().nonnegative(),
  /** Tasks. */
  trials: Count,
  ci: Interval,
});
export type ExactInterval = z.infer<typeof ExactInterval>;

export const Estimate = z.object({
  mean: z.number(),
  /** Percentile bootstrap interval over tasks, [low, high]. */
  ci: Interval,
  /**
   * The bootstrap interval has zero width because every task had the same value (or n = 1).
   * That says nothing about the uncertainty, so it must never be shown as a certain [x, x].
   */
  degenerate: z.boolean(),
  /** For a degenerate pass rate: the exact interval to show instead; null otherwise. */
  exact: ExactInterval.nullable(),
});
export type Estimate = z.infer<typeof Estimate>;

/**
 * A pass rate's estimate: a mean of per-task rates, so it and every interval bound lie in [0, 1].
 * A stored report saying otherwise was edited or corrupted; gating or comparing on it would not be honest.
 */
const RateEstimate = Estimate.extend({
  mean: Probability,
  ci: z.tuple([Probability, Probability]),
  exact: ExactInterval.extend({ ci: z.tuple([Probability, Probability]) }).nullable(),
});

export const ExcludedTask = z.object({ id: z.string(), reason: z.string() });
export type ExcludedTask = z.infer<typeof ExcludedTask>;

/** `error`: a defect in Gauntlet's or the environment's code ended the epoch; never scored. */
export const EpochOutcome = z.enum(['pass', 'fail', 'infra_error', 'error', 'cancelled']);
export type EpochOutcome = z.infer<typeof EpochOutcome>;

/** One task for one model: its final rollout per epoch, summarised. */
export const TaskResult = z.object({
  id: z.string(),
  domain: z.string(),
  difficulty: z.string(),
  /** Epochs with a recorded rollout (the last attempt of each). */
  epochs: Count,
  scored: Count,
  passes: Count,
  /** passes / scored; null when nothing was scored. */
  passRate: Probability.nullable(),
  meanScore: z.number().nullable(),
  infraErrors: Count,
  /** Epochs ended by a defect (status `error`); never scored. Reports written before the status existed read as 0. */
  errors: Count.default(0),
  cancelled: Count,
  /** Earlier attempts that ended in infra errors and were retried. */
  retriedInfraErrors: Count,
  /** One entry per recorded epoch, in epoch order. */
  outcomes: z.array(EpochOutcome),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** How often one named verifier check passed over the scored final rollouts of a group. */
export const CheckRate = z.object({
  passed: Count,
  /** Results with this name (a task that lists a check twice counts twice). */
  total: Count,
  /** passed / total. */
  rate: Probability,
});
export type CheckRate = z.infer<typeof CheckRate>;

/** Statistics for one model over one group of tasks (a domain, or all of them). */
export const GroupStats = z.object({
  /** Suite tasks in the group, excluded tasks not counted. */
  tasks: Count,
  /** Tasks with at least one scored rollout: the n every rate is over. */
  n: Count,
  /** Most epochs recorded for one task. */
  epochs: Count,
  /** Final rollouts (one per task epoch), every status. */
  rollouts: Count,
  /**
   * The pass rate: mean over tasks of each task's passes / scored attempts (so every task weighs
   * the same however many epochs were scored), with a task bootstrap interval; null when n = 0.
   */
  passRate: RateEstimate.nullable(),
  /** passRate.mean under the name that says what it is; null when n = 0. */
  taskMeanPassRate: Probability.nullable(),
  /**
   * Passed ÷ scored final rollouts over the whole group, what `gauntlet run` prints. It differs
   * from the per-task mean when tasks have different numbers of scored attempts. Null when n = 0.
   */
  pooledPassRate: Probability.nullable(),
  /** Mean over tasks of the mean score of scored attempts; null when n = 0. */
  meanScore: Estimate.nullable(),
  /** Unbiased pass@k (Chen et al. 2021), keyed by k = 1..min scored attempts over tasks. */
  passAtK: z.record(z.string(), Probability),
  /** pass^k (Yao et al. 2024): all k attempts pass; same keys. */
  passHatK: z.record(z.string(), Probability),
  /** Tasks that both passed and failed across epochs. */
  flakyTasks: z.array(z.string()),
  /** Infra errors are never failures: they are counted here and left out of every rate. */
  infraErrors: z.object({
    /** Final rollouts that ended in an infra error. */
    count: Count,
    /** count / rollouts. */
    rate: Probability,
    /** Earlier attempts that failed on infrastructure and were retried. */
    retried: Count,
    /** Tasks with no scored rollout because every one hit an infra error; not in n. */
    tasksWithOnlyInfraErrors: z.array(z.string()),
  }),
  /** Suite tasks with no rollout at all. */
  missingTasks: z.array(z.string()),
  /** Tasks whose golden solution failed validation; never scored. */
  excludedTasks: z.array(ExcludedTask),
  byStatus: z.record(RolloutStatus, Count),
  byTerminationReason: z.record(TerminationReason, Count),
  /** Sample sd of per-task pass rates (descriptive); null when n = 0. */
  passRateSd: z.number().nullable(),
  /**
   * Smallest pass-rate difference from another model that the paired exact test detects on these
   * n tasks with probability options.power at options.alpha (see power.ts). Null when n = 0, or
   * when no difference is detectable: the exact test needs at least 6 tasks that differ at α = 0.05.
   */
  minDetectableEffect: z.number().nullable(),
  /** Tasks needed to detect options.minEffect; null when no minEffect was given, n = 0, or the effect is impossible from this pass rate. */
  requiredN: Count.nullable(),
  /**
   * Pass rate of each verifier check, by the name it reports (checklist items such as
   * "system: plain text"), over scored final rollouts. Reports written before it existed read as {}.
   */
  checks: z.record(z.string(), CheckRate).default({}),
});
export type GroupStats = z.infer<typeof GroupStats>;

export const ModelReport = z.object({
  runId: z.string(),
  model: z.string(),
  overall: GroupStats,
  /** Keyed by the task's domain; every domain of the suite appears for every model. */
  domains: z.record(z.string(), GroupStats),
  tasks: z.array(TaskResult),
  warnings: z.array(z.string()),
});
export type ModelReport = z.infer<typeof ModelReport>;

export const TaskDifficulty = z.object({
  id: z.string(),
  domain: z.string(),
  /** The difficulty the task author tagged. */
  taggedDifficulty: z.string(),
  /** Models with at least one scored attempt on the task. */
  models: Count,
  /** Scored attempts over those models: the n behind the estimate. */
  n: Count,
  /** Mean over models of the task's pass rate. */
  passRate: Probability,
  /** 1 − passRate. */
  difficultyEstimate: Probability,
});
export type TaskDifficulty = z.infer<typeof TaskDifficulty>;

/** Which tasks separate models. Only tasks scored for every model count as all-pass or none-pass. */
export const Discrimination = z.object({
  models: Count,
  allModelsPass: z.array(z.string()),
  noModelPasses: z.array(z.string()),
  tasks: z.array(TaskDifficulty),
  /** Whether authors' tags agree with what the models found hard. */
  byTaggedDifficulty: z.record(z.string(), z.object({ tasks: Count, meanDifficultyEstimate: Probability })),
});
export type Discrimination = z.infer<typeof Discrimination>;

const CurrentEvalReport = z.object({
  kind: z.literal('gauntlet.eval-report'),
  version: z.literal(EVAL_REPORT_VERSION),
  meta: EvalMeta,
  options: ResolvedEvalOptions,
  models: z.array(ModelReport),
  /** Suite-level list; each GroupStats repeats the ones in its domain. */
  excludedTasks: z.array(ExcludedTask),
  discrimination: Discrimination,
  /** Suite-level warnings; per-model ones are in models[].warnings. */
  warnings: z.array(z.string()),
});

/** A report of this version, or of an earlier one upgraded on read. */
export const EvalReport = z.preprocess(upgradeEvalReport, CurrentEvalReport);
export type EvalReport = z.infer<typeof CurrentEvalReport>;
