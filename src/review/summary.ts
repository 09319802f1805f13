// What the viewer shows about runs: counts by status, pooled and per-task pass rates, a score
// histogram, per-perturbation rates and detector-flag counts, all from light rollout rows.
// Infrastructure errors, defects and cancellations are counted and shown, never pooled into rates.
import type { DetectionCategory, DetectionRecord, RolloutStatus, RolloutSummary, Run, Severity, TerminationReason } from '../core/index.ts';

/**
 * The training step a run was taken at: the last whole number in its policy version (`step-1200`,
 * `ckpt_300`, `1200`); null without one, or when it is too large to hold exactly (it would read
 * as another step, or as Infinity past 308 digits).
 */
export function trainingStepOf(run: Pick<Run, 'config'>): number | null {
  const version = run.config.policyVersion;
  if (version === undefined) return null;
  // Scanned from the end: the regex /(\d+)(?!.*\d)/ this replaces backtracked in cubic time over a
  // long run of digits, and the viewer reads every run's step for each list of runs.
  let end = version.length;
  while (end > 0 && !isDigit(version.charCodeAt(end - 1))) end--;
  if (end === 0) return null;
  let start = end;
  while (start > 0 && isDigit(version.charCodeAt(start - 1))) start--;
  const step = Number(version.slice(start, end));
  return Number.isSafeInteger(step) ? step : null;
}

const isDigit = (code: number) => code >= 48 && code <= 57;

export interface RateSummary {
  total: number;
  /** Rollouts per status: only `scored` ones enter rates. */
  byStatus: Record<RolloutStatus, number>;
  scored: number;
  passed: number;
  /** passed ÷ scored; null when nothing was scored. */
  pooledPassRate: number | null;
  /** Mean over tasks of each task's pass rate over its scored rollouts; null when nothing was scored. */
  taskMeanPassRate: number | null;
  /** Mean score over scored rollouts; null when nothing was scored. */
  meanScore: number | null;
}

const STATUSES: readonly RolloutStatus[] = ['scored', 'infra_error', 'error', 'cancelled'];

export function rates(rows: readonly RolloutSummary[]): RateSummary {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<RolloutStatus, number>;
  const perTask = new Map<string, { scored: number; passed: number }>();
  let scored = 0;
  let passed = 0;
  let scoreSum = 0;
  for (const row of rows) {
    byStatus[row.status]++;
    if (row.status !== 'scored') continue;
    scored++;
    if (row.passed) passed++;
    scoreSum += row.score ?? 0;
    const task = perTask.get(row.taskId) ?? { scored: 0, passed: 0 };
    task.scored++;
    if (row.passed) task.passed++;
    perTask.set(row.taskId, task);
  }
  const taskRates = [...perTask.values()].map((t) => t.passed / t.scored);
  return {
    total: rows.length,
    byStatus,
    scored,
    passed,
    pooledPassRate: scored > 0 ? passed / scored : null,
    taskMeanPassRate: taskRates.length > 0 ? taskRates.reduce((a, b) => a + b, 0) / taskRates.length : null,
    meanScore: scored > 0 ? scoreSum / scored : null,
  };
}

export interface TaskRate {
  taskId: string;
  rollouts: number;
  scored: number;
  passed: number;
  passRate: number | null;
  meanScore: number | null;
}

export function perTaskRates(rows: readonly RolloutSummary[]): TaskRate[] {
  const groups = new Map<string, RolloutSummary[]>();
  for (const row of rows) {
    const group = groups.get(row.taskId);
    if (group) group.push(row);
    else groups.set(row.taskId, [row]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([taskId, group]) => {
      const r = rates(group);
      return { taskId, rollouts: group.length, scored: r.scored, passed: r.passed, passRate: r.pooledPassRate, meanScore: r.meanScore };
    });
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** Scores of scored rollouts in `bins` equal bins over [0, 1], widened to the scores' range when any fall outside. */
export function scoreHistogram(rows: readonly RolloutSummary[], bins = 10): HistogramBin[] {
  const scores = rows.filter((r) => r.status === 'scored' && r.score !== null).map((r) => r.score as number);
  // A loop, not Math.min(...scores): spreading a run's scores overflows the stack past ~120k rollouts.
  let lo = 0;
  let hi = 1;
  for (const score of scores) {
    if (score < lo) lo = score;
    if (score > hi) hi = score;
  }
  const width = (hi - lo) / bins;
  const out = Array.from({ length: bins }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, count: 0 }));
  for (const score of scores) out[Math.min(bins - 1, Math.floor((score - lo) / width))]!.count++;
  return out;
}

export interface PerturbationRate {
  /** The perturbation's name, or `none` for rollouts without one. */
  perturbation: string;
  scored: number;
  passed: number;
  passRate: number | null;
}

/** Pass rates per perturbation applied (a rollout with two counts under both); empty when no rollout was perturbed. */
export function perPerturbationRates(rows: readonly RolloutSummary[]): PerturbationRate[] {
  if (!rows.some((r) => r.perturbations.length > 0)) return [];
  const groups = new Map<string, { scored: number; passed: number }>();
  for (const row of rows) {
    if (row.status !== 'scored') continue;
    for (const name of row.perturbations.length > 0 ? new Set(row.perturbations) : ['none']) {
      const g = groups.get(name) ?? { scored: 0, passed: 0 };
      g.scored++;
      if (row.passed) g.passed++;
      groups.set(name, g);
    }
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([perturbation, g]) => ({ perturbation, ...g, passRate: g.scored > 0 ? g.passed / g.scored : null }));
}

export function terminationCounts(rows: readonly RolloutSummary[]): Partial<Record<TerminationReason, number>> {
  const out: Partial<Record<TerminationReason, number>> = {};
  for (const row of rows) out[row.terminationReason] = (out[row.terminationReason] ?? 0) + 1;
  return out;
}

/** Each rollout's findings for its final attempt (earlier attempts were abandoned; their findings do not describe the result). */
export function finalFindings(rows: readonly RolloutSummary[], detections: readonly DetectionRecord[]): Map<string, DetectionRecord> {
  const attempts = new Map(rows.map((r) => [r.id as string, r.attempt]));
  const out = new Map<string, DetectionRecord>();
  for (const record of detections) if (attempts.get(record.rolloutId) === record.attempt) out.set(record.rolloutId, record);
  return out;
}

export interface FlagCounts {
  /** Rollouts whose final attempt the detectors examined: the denominator of every rate. */
  examined: number;
  /** Rollouts with at least one flag of the category. */
  byCategory: Partial<Record<DetectionCategory, number>>;
  /** Rollouts with at least one flag. */
  flagged: number;
}

export function flagCounts(findings: ReadonlyMap<string, DetectionRecord>): FlagCounts {
  const byCategory: Partial<Record<DetectionCategory, number>> = {};
  let flagged = 0;
  for (const record of findings.values()) {
    if (record.flags.length > 0) flagged++;
    for (const category of new Set(record.flags.map((f) => f.category))) byCategory[category] = (byCategory[category] ?? 0) + 1;
  }
  return { examined: findings.size, byCategory, flagged };
}

const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

/** The highest severity among a record's flags (0 when none). */
export function worstSeverity(record: DetectionRecord | undefined): number {
  return Math.max(0, ...(record?.flags ?? []).map((f) => SEVERITY_RANK[f.severity]));
}

/** Whether a rollout matches a `flag` filter: a category, or `any` for any flag. */
export function hasFlag(record: DetectionRecord | undefined, flag: string): boolean {
  if (!record) return false;
  return flag === 'any' ? record.flags.length > 0 : record.flags.some((f) => f.category === flag);
}

export interface RunHeadline {
  id: string;
  createdAt: string;
  status: Run['status'];
  finishedAt: string | null;
  envs: string[];
  model: string;
  scaffold: string;
  policyVersion: string | null;
  trainingStep: number | null;
  epochs: number;
  summary: RateSummary;
}

export function runHeadline(run: Run, rows: readonly RolloutSummary[]): RunHeadline {
  return {
    id: run.id,
    createdAt: run.createdAt,
    status: run.status,
    finishedAt: run.finishedAt,
    envs: run.config.envs,
    model: run.config.model,
    scaffold: run.config.scaffold,
    policyVersion: run.config.policyVersion ?? null,
    trainingStep: trainingStepOf(run),
    epochs: run.config.epochs,
    summary: rates(rows),
  };
}
