// Reading reports and comparisons written by earlier versions. Each upgrade adds what the newer
// version holds, computed from what the old record already stores (per-task counts, options),
// so an old report renders, gates and compares like a new one. Unknown versions are left as they
// are for the schema to reject with its message.
import { RolloutStatus, TerminationReason } from '../core/index.ts';
import { clopperPearson } from './exact.ts';
import { groupPower } from './power.ts';
import { zeroWidth } from './stats.ts';

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/** Statuses and termination reasons added after a report was written were, by definition, never seen in it. */
function fillCounts(stats: Fields): void {
  for (const [key, names] of [
    ['byStatus', RolloutStatus.options],
    ['byTerminationReason', TerminationReason.options],
  ] as const) {
    const counts = stats[key];
    if (!isFields(counts)) continue;
    for (const name of names) counts[name] ??= 0;
  }
}

function upgradeEstimate(value: unknown, exact: (mean: number) => Fields | null): void {
  if (!isFields(value) || !Array.isArray(value.ci) || 'degenerate' in value) return;
  const degenerate = zeroWidth([numberOr(value.ci[0], 0), numberOr(value.ci[1], 1)]);
  value.degenerate = degenerate;
  value.exact = degenerate ? exact(numberOr(value.mean, 0)) : null;
}

interface TaskCountsLike {
  domain: string;
  passes: number;
  scored: number;
}

function taskCounts(tasks: unknown): TaskCountsLike[] {
  if (!Array.isArray(tasks)) return [];
  return tasks.filter(isFields).map((t) => ({ domain: String(t.domain), passes: numberOr(t.passes, 0), scored: numberOr(t.scored, 0) }));
}

interface GroupContext {
  counts: readonly TaskCountsLike[];
  options: { confidence: number; alpha: number; power: number; minEffect: number | null };
}

/** Version 1 → 2: exact intervals for degenerate pass rates, the two named pass rates, and the exact-test power figures. */
function upgradeGroupV1(stats: unknown, { counts, options }: GroupContext): void {
  if (!isFields(stats)) return;
  const n = numberOr(stats.n, 0);
  upgradeEstimate(stats.passRate, (mean) =>
    n > 0 ? { method: 'clopper-pearson', successes: mean * n, trials: n, ci: clopperPearson(Math.min(n, Math.max(0, mean * n)), n, options.confidence) } : null,
  );
  upgradeEstimate(stats.meanScore, () => null);
  const rate = isFields(stats.passRate) ? numberOr(stats.passRate.mean, Number.NaN) : Number.NaN;
  stats.taskMeanPassRate ??= Number.isNaN(rate) ? null : rate;
  let passes = 0;
  let scored = 0;
  for (const c of counts) {
    passes += c.passes;
    scored += c.scored;
  }
  stats.pooledPassRate ??= scored > 0 ? passes / scored : null;
  // Version 1 figures came from a normal approximation that ignored ties; recompute them.
  const power = groupPower(counts, options);
  stats.passRateSd = power?.sd ?? null;
  stats.minDetectableEffect = power?.minDetectableEffect ?? null;
  stats.requiredN = power?.requiredN ?? null;
}

const V1_NOTE = 'read from a version-1 report: detectable differences were recomputed with the exact-test power model; warnings written with the report may quote the old figures';

export function upgradeEvalReport(value: unknown): unknown {
  if (!isFields(value) || value.kind !== 'gauntlet.eval-report') return value;
  const report = structuredClone(value);
  const models = Array.isArray(report.models) ? report.models.filter(isFields) : [];
  for (const model of models) {
    for (const stats of [model.overall, ...(isFields(model.domains) ? Object.values(model.domains) : [])]) if (isFields(stats)) fillCounts(stats);
  }
  if (report.version !== 1) return report;
  const raw = isFields(report.options) ? report.options : {};
  const options = {
    confidence: numberOr(raw.confidence, 0.95),
    alpha: numberOr(raw.alpha, 0.05),
    power: numberOr(raw.power, 0.8),
    minEffect: typeof raw.minEffect === 'number' ? raw.minEffect : null,
  };
  for (const model of models) {
    const counts = taskCounts(model.tasks);
    upgradeGroupV1(model.overall, { counts, options });
    if (isFields(model.domains)) {
      for (const [domain, stats] of Object.entries(model.domains)) upgradeGroupV1(stats, { counts: counts.filter((c) => c.domain === domain), options });
    }
    if (Array.isArray(model.warnings)) model.warnings.push(V1_NOTE);
  }
  report.version = 2;
  return report;
}

/** Comparison version 1 → 2: each row says at which level its interval was computed (version 1 never adjusted them). */
export function upgradeComparison(value: unknown): unknown {
  if (!isFields(value) || value.kind !== 'gauntlet.comparison' || value.version !== 1) return value;
  const comparison = structuredClone(value);
  const confidence = isFields(comparison.options) ? numberOr(comparison.options.confidence, 0.95) : 0.95;
  const rows = [comparison.overall, ...(isFields(comparison.domains) ? Object.values(comparison.domains) : [])];
  for (const row of rows) {
    if (!isFields(row)) continue;
    row.confidence ??= confidence;
    row.intervalAdjustment ??= 'none';
    upgradeEstimate(row.difference, () => null);
  }
  comparison.version = 2;
  return comparison;
}
