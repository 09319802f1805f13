// The robustness report: for every arm of a perturbation suite, its pass rate and the paired gap
// to the unperturbed baseline (same tasks, same epochs), Holm-corrected across arms; which arms
// hurt significantly, the tasks each hurts most, and how held-out families fare against seen ones.
// Pure: rollouts in, report out. Statistics are eval's (bootstrap over tasks, sign-flip test,
// Holm), so these numbers mean what `gauntlet compare` numbers mean.
import { z } from 'zod';
import { TerminationReason, type Rollout, type Task } from '../../core/index.ts';
import { bootstrapMeans, clopperPearson, compareRuns, Estimate, holmAdjust, signFlipTest, taskMetaOf } from '../../eval/index.ts';

export const ROBUSTNESS_REPORT_VERSION = 1 as const;

const Count = z.number().int().nonnegative();
const Rate = z.number().min(0).max(1);

export const TaskGap = z.object({ id: z.string(), baseline: Rate, perturbed: Rate, difference: z.number() });
export type TaskGap = z.infer<typeof TaskGap>;

export const ArmVerdict = z.enum(['hurts', 'helps', 'no significant difference', 'no paired tasks']);
export type ArmVerdict = z.infer<typeof ArmVerdict>;

export const ArmRow = z.object({
  /** `baseline`, or the arm's perturbations joined by ` + `; in a matrix, the cell's scaffold (and model). */
  id: z.string(),
  /** `matrix`: a model × scaffold cell, compared to the matrix's first cell (the baseline). */
  split: z.enum(['baseline', 'seen', 'held-out', 'matrix']),
  families: z.array(z.string()),
  rollouts: z.object({ total: Count, scored: Count, passed: Count, infraErrors: Count, errors: Count, cancelled: Count }),
  terminationReasons: z.record(z.string(), Count),
  /** Tasks the arm could not perturb at all (each of its perturbations said why); left out of it. */
  notApplicable: z.array(z.object({ id: z.string(), reason: z.string() })),
  /** Tasks where only some of the arm's perturbations applied. */
  partlyApplied: z.array(z.object({ id: z.string(), skipped: z.array(z.string()) })),
  /** Mean over tasks of each task's pass rate, bootstrap interval over tasks. */
  passRate: Estimate.nullable(),
  /** Tasks scored in both this arm and the baseline: every paired figure is over them. */
  pairs: Count,
  /** Mean per-task (arm − baseline) pass-rate difference, paired bootstrap interval. */
  gap: Estimate.nullable(),
  pValue: z.number().nullable(),
  /** Holm-adjusted across the suite's arms. */
  pAdjusted: z.number().nullable(),
  verdict: ArmVerdict,
  tasksWorse: Count,
  tasksBetter: Count,
  /** Smallest true gap these pairs detect at the report's power (null: none detectable with so few pairs). */
  minDetectableEffect: z.number().nullable(),
  /** The tasks this arm hurts most (largest drop first). */
  worstTasks: z.array(TaskGap),
});
export type ArmRow = z.infer<typeof ArmRow>;

export const SplitRow = z.object({
  arms: Count,
  /** Tasks with a paired difference in at least one arm of the split. */
  tasks: Count,
  /** Per task, the mean gap over the split's arms; then the mean over tasks. */
  gap: Estimate,
  pValue: z.number(),
});
export type SplitRow = z.infer<typeof SplitRow>;

export const RobustnessReport = z.object({
  kind: z.literal('gauntlet.robustness'),
  version: z.literal(ROBUSTNESS_REPORT_VERSION),
  meta: z.object({
    gauntletVersion: z.string(),
    createdAt: z.string(),
    suite: z.string(),
    model: z.string(),
    envs: z.array(z.string()),
    tasks: Count,
    epochs: Count,
    /** The run seed (worlds) and the suite's perturbation seeds. */
    seed: z.number().int(),
    perturbationSeeds: z.array(z.number().int()),
    heldOut: z.array(z.string()),
    /** Set for a model × scaffold matrix (`--scaffolds`): its axes; the baseline is the first model's first scaffold. */
    matrix: z.object({ models: z.array(z.string()), scaffolds: z.array(z.string()) }).optional(),
    resamples: z.number().int(),
    confidence: z.number(),
    alpha: z.number(),
  }),
  baseline: ArmRow,
  /** Significant harms first (largest drop first), then the rest by gap; a matrix's cells in its own order. */
  arms: z.array(ArmRow),
  generalisation: z.object({
    seen: SplitRow.nullable(),
    heldOut: SplitRow.nullable(),
    /** Per task, held-out gap − seen gap: negative when held-out families hurt more. */
    difference: Estimate.nullable(),
    pValue: z.number().nullable(),
  }),
  warnings: z.array(z.string()),
});
export type RobustnessReport = z.infer<typeof RobustnessReport>;

/** One arm's rollouts and what its perturbations said about each task. */
export interface ArmInput {
  id: string;
  split: 'seen' | 'held-out' | 'matrix';
  families: string[];
  rollouts: readonly Rollout[];
  notApplicable: { id: string; reason: string }[];
  partlyApplied: { id: string; skipped: string[] }[];
}

export interface AnalyseOptions {
  meta: Omit<RobustnessReport['meta'], 'resamples' | 'confidence' | 'alpha'>;
  tasks: readonly Task[];
  baseline: readonly Rollout[];
  /** The baseline row's id (default `baseline`): a matrix names its first cell. */
  baselineId?: string;
  /** Tasks the baseline's own perturbations skip (a matrix whose first cell is perturbed). */
  baselineSkipped?: Pick<ArmInput, 'notApplicable' | 'partlyApplied'>;
  arms: readonly ArmInput[];
  resamples?: number;
  confidence?: number;
  alpha?: number;
  power?: number;
  /** Worst tasks listed per arm. */
  worst?: number;
  /** `ranked` (default): significant harms first, then by gap; `given`: the arms' own order (a matrix reads as its grid). */
  order?: 'ranked' | 'given';
}

function counts(rollouts: readonly Rollout[]): ArmRow['rollouts'] {
  return {
    total: rollouts.length,
    scored: rollouts.filter((r) => r.status === 'scored').length,
    passed: rollouts.filter((r) => r.passed === true).length,
    infraErrors: rollouts.filter((r) => r.status === 'infra_error').length,
    errors: rollouts.filter((r) => r.status === 'error').length,
    cancelled: rollouts.filter((r) => r.status === 'cancelled').length,
  };
}

function reasons(rollouts: readonly Rollout[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const reason of TerminationReason.options) {
    const n = rollouts.filter((r) => r.terminationReason === reason).length;
    if (n > 0) out[reason] = n;
  }
  return out;
}

/** Per-task pass rates over scored rollouts, tasks without a scored rollout left out. */
function taskRates(rollouts: readonly Rollout[]): Map<string, number> {
  const tally = new Map<string, { passed: number; scored: number }>();
  for (const r of rollouts) {
    if (r.status !== 'scored') continue;
    const t = tally.get(r.taskId) ?? { passed: 0, scored: 0 };
    t.scored++;
    if (r.passed) t.passed++;
    tally.set(r.taskId, t);
  }
  return new Map([...tally].map(([id, t]) => [id, t.passed / t.scored]));
}

function passRate(rollouts: readonly Rollout[], options: { seed: string; resamples: number; confidence: number }): Estimate | null {
  const rates = [...taskRates(rollouts).values()];
  if (rates.length === 0) return null;
  const [estimate] = bootstrapMeans([Float64Array.from(rates)], { seed: options.seed, resamples: options.resamples, confidence: options.confidence });
  if (!estimate) return null;
  if (!estimate.degenerate) return estimate;
  // A zero-width interval says nothing; show the exact one over tasks instead (as eval does).
  const successes = rates.reduce((s, v) => s + v, 0);
  return { ...estimate, exact: { method: 'clopper-pearson', successes, trials: rates.length, ci: clopperPearson(successes, rates.length, options.confidence) } };
}

function verdictOf(gap: Estimate | null, pAdjusted: number | null, alpha: number): ArmVerdict {
  if (!gap || pAdjusted === null) return 'no paired tasks';
  if (pAdjusted >= alpha) return 'no significant difference';
  return gap.mean < 0 ? 'hurts' : 'helps';
}

function splitRow(arms: readonly { row: ArmRow; diffs: Map<string, number> }[], options: { seed: string; resamples: number; confidence: number }): { row: SplitRow; perTask: Map<string, number> } | null {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const { diffs } of arms) {
    for (const [id, d] of diffs) {
      const s = sums.get(id) ?? { sum: 0, n: 0 };
      s.sum += d;
      s.n++;
      sums.set(id, s);
    }
  }
  if (sums.size === 0) return null;
  const perTask = new Map([...sums].map(([id, s]) => [id, s.sum / s.n]));
  const values = Float64Array.from(perTask.values());
  const [gap] = bootstrapMeans([values], { seed: `${options.seed}:gap`, resamples: options.resamples, confidence: options.confidence });
  const test = signFlipTest(values, { seed: `${options.seed}:test`, resamples: options.resamples });
  return { row: { arms: arms.length, tasks: perTask.size, gap: gap!, pValue: test.pValue }, perTask };
}

/** Builds the report from the baseline's and every arm's rollouts. */
export function analyseRobustness(options: AnalyseOptions): RobustnessReport {
  const resamples = options.resamples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  const worst = options.worst ?? 5;
  const seed = options.meta.seed;
  const metas = options.tasks.map(taskMetaOf);
  const baseRun = { runId: 'baseline', model: options.meta.model, rollouts: options.baseline };
  const baseRates = taskRates(options.baseline);
  const warnings: string[] = [];

  const baseline: ArmRow = {
    id: options.baselineId ?? 'baseline',
    split: 'baseline',
    families: [],
    rollouts: counts(options.baseline),
    terminationReasons: reasons(options.baseline),
    notApplicable: options.baselineSkipped?.notApplicable ?? [],
    partlyApplied: options.baselineSkipped?.partlyApplied ?? [],
    passRate: passRate(options.baseline, { seed: `${seed}:baseline`, resamples, confidence }),
    pairs: baseRates.size,
    gap: null,
    pValue: null,
    pAdjusted: null,
    verdict: 'no paired tasks',
    tasksWorse: 0,
    tasksBetter: 0,
    minDetectableEffect: null,
    worstTasks: [],
  };

  const rows = options.arms.map((arm, i) => {
    const excluded = arm.notApplicable.map((t) => ({ id: t.id, reason: t.reason }));
    const comparison = compareRuns({ a: { runId: arm.id, model: options.meta.model, rollouts: arm.rollouts }, b: baseRun, tasks: metas, excludedTasks: excluded, seed: seed + i, resamples, alpha, confidence, power });
    const o = comparison.overall;
    const diffs = new Map(comparison.tasks.map((t) => [t.id, t.difference]));
    const worstTasks = comparison.tasks
      .filter((t) => t.difference < 0)
      .sort((a, b) => a.difference - b.difference || a.id.localeCompare(b.id))
      .slice(0, worst)
      .map((t) => ({ id: t.id, baseline: t.passRateB, perturbed: t.passRateA, difference: t.difference }));
    const row: ArmRow = {
      id: arm.id,
      split: arm.split,
      families: arm.families,
      rollouts: counts(arm.rollouts),
      terminationReasons: reasons(arm.rollouts),
      notApplicable: arm.notApplicable,
      partlyApplied: arm.partlyApplied,
      passRate: passRate(arm.rollouts, { seed: `${seed}:arm:${i}`, resamples, confidence }),
      pairs: o.n,
      gap: o.difference,
      pValue: o.pValue,
      pAdjusted: o.pValue,
      verdict: 'no paired tasks',
      tasksWorse: o.tasksBetterB,
      tasksBetter: o.tasksBetterA,
      minDetectableEffect: o.minDetectableEffect,
      worstTasks,
    };
    if (arm.notApplicable.length > 0) warnings.push(`${arm.id}: does not apply to ${arm.notApplicable.length} task(s), left out of its figures`);
    return { row, diffs };
  });

  // Holm across the arms that could be tested: one family of hypotheses, "this perturbation changes the pass rate".
  const tested = rows.filter((r) => r.row.pValue !== null);
  holmAdjust(tested.map((r) => r.row.pValue as number)).forEach((p, i) => {
    tested[i]!.row.pAdjusted = p;
  });
  for (const { row } of rows) row.verdict = verdictOf(row.gap, row.pAdjusted, alpha);

  const harmful = (r: ArmRow) => (r.verdict === 'hurts' ? 0 : 1);
  const ranked = options.order === 'given' ? rows.map((r) => r.row) : rows.map((r) => r.row).sort((a, b) => harmful(a) - harmful(b) || (a.gap?.mean ?? 0) - (b.gap?.mean ?? 0) || a.id.localeCompare(b.id));

  const splitOptions = { resamples, confidence };
  const seen = splitRow(
    rows.filter((r) => r.row.split === 'seen'),
    { ...splitOptions, seed: `${seed}:seen` },
  );
  const heldOut = splitRow(
    rows.filter((r) => r.row.split === 'held-out'),
    { ...splitOptions, seed: `${seed}:held-out` },
  );
  let difference: Estimate | null = null;
  let differenceP: number | null = null;
  if (seen && heldOut) {
    const shared = [...heldOut.perTask.keys()].filter((id) => seen.perTask.has(id));
    if (shared.length > 0) {
      const values = Float64Array.from(shared.map((id) => heldOut.perTask.get(id)! - seen.perTask.get(id)!));
      difference = bootstrapMeans([values], { seed: `${seed}:generalisation`, resamples, confidence })[0] ?? null;
      differenceP = signFlipTest(values, { seed: `${seed}:generalisation:test`, resamples }).pValue;
    }
  } else if (options.meta.heldOut.length > 0 && !heldOut) {
    warnings.push('no arm of the suite is held out with results; the held-out comparison is empty');
  }
  // A column that ran but scored nothing has no result: said by name, never left to read as "no difference".
  for (const row of [baseline, ...rows.map((r) => r.row)]) {
    const n = row.rollouts;
    if (n.total === 0 || n.scored > 0) continue;
    const why = [n.infraErrors > 0 ? `${n.infraErrors} infrastructure error(s)` : '', n.errors > 0 ? `${n.errors} defect(s)` : '', n.cancelled > 0 ? `${n.cancelled} cancelled` : ''].filter(Boolean).join(', ');
    warnings.push(`${row.id}: none of its ${n.total} rollout(s) was scored (${why}); it has no result${row === baseline ? ' and no arm can be compared with it' : ''}`);
  }
  // Every pair tied (nothing moved) needs no warning; every pair moving alike is a sample too thin to say how far.
  const zeroWidth = rows.filter((r) => r.row.gap?.degenerate && r.row.gap.mean !== 0).map((r) => r.row.id);
  if (zeroWidth.length > 0) {
    warnings.push(`${zeroWidth.join('; ')}: every paired task moved by the same amount (or there is one pair), so the gap's bootstrap interval has zero width, which is not certainty; no interval is shown (run more tasks or epochs)`);
  }
  if (baseline.rollouts.infraErrors > 0 || rows.some((r) => r.row.rollouts.infraErrors > 0)) {
    warnings.push('some rollouts ended in infrastructure errors; they are left out of every figure (see rollouts.infraErrors)');
  }
  if (baseline.rollouts.errors > 0 || rows.some((r) => r.row.rollouts.errors > 0)) {
    warnings.push('some rollouts ended in defects (status error); they are never scored — fix the defect and re-run');
  }

  return {
    kind: 'gauntlet.robustness',
    version: ROBUSTNESS_REPORT_VERSION,
    meta: { ...options.meta, resamples, confidence, alpha },
    baseline,
    arms: ranked,
    generalisation: { seen: seen?.row ?? null, heldOut: heldOut?.row ?? null, difference, pValue: differenceP },
    warnings,
  };
}
