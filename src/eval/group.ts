import { RolloutStatus, TerminationReason } from '../core/index.ts';
import { bootstrapMeans } from './bootstrap.ts';
import { clopperPearson } from './exact.ts';
import { passCurves } from './passk.ts';
import { groupPower } from './power.ts';
import type { CheckRate, Estimate, ExcludedTask, GroupStats, ResolvedEvalOptions } from './schema.ts';
import type { TaskRecord } from './tasks.ts';

/**
 * A zero-width bootstrap interval (every task had the same pass rate, or n = 1) gets the exact
 * Clopper–Pearson interval over tasks beside it, with the summed per-task rates as the successes.
 */
function withExactInterval(estimate: Estimate, rates: Float64Array, confidence: number): Estimate {
  if (!estimate.degenerate) return estimate;
  const n = rates.length;
  let successes = 0;
  for (const r of rates) successes += r;
  successes = Math.min(n, Math.max(0, successes));
  return { ...estimate, exact: { method: 'clopper-pearson', successes, trials: n, ci: clopperPearson(successes, n, confidence) } };
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Per-check pass counts over the scored final rollouts, keyed by check name in name order. */
export function checkRates(records: readonly TaskRecord[]): Record<string, CheckRate> {
  const counts = new Map<string, { passed: number; total: number }>();
  for (const record of records) {
    for (const rollout of record.finals) {
      if (rollout.status !== 'scored' || !rollout.verifier) continue;
      for (const check of rollout.verifier.checks) {
        const count = counts.get(check.name) ?? { passed: 0, total: 0 };
        count.total++;
        if (check.passed) count.passed++;
        counts.set(check.name, count);
      }
    }
  }
  const out: Record<string, CheckRate> = {};
  for (const [name, { passed, total }] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[name] = { passed, total, rate: passed / total };
  return out;
}

export interface GroupContext {
  options: ResolvedEvalOptions;
  /** Distinguishes this group's bootstrap stream from every other group's. */
  seedLabel: string;
  excluded: ExcludedTask[];
}

export function groupStats(records: readonly TaskRecord[], context: GroupContext): GroupStats {
  const { options } = context;
  const byStatus = zeroCounts(RolloutStatus.options);
  const byTerminationReason = zeroCounts(TerminationReason.options);
  const scoredTasks = records.filter((r) => r.result.scored > 0);
  const rates = new Float64Array(scoredTasks.length);
  const scores = new Float64Array(scoredTasks.length);
  let rollouts = 0;
  let infraCount = 0;
  let retried = 0;
  let passes = 0;
  let attempts = 0;
  let epochs = 0;
  for (const record of records) {
    for (const rollout of record.finals) {
      byStatus[rollout.status]++;
      byTerminationReason[rollout.terminationReason]++;
    }
    rollouts += record.finals.length;
    infraCount += record.result.infraErrors;
    retried += record.result.retriedInfraErrors;
    epochs = Math.max(epochs, record.result.epochs);
  }
  scoredTasks.forEach((record, i) => {
    rates[i] = record.result.passRate ?? 0;
    scores[i] = record.result.meanScore ?? 0;
    passes += record.result.passes;
    attempts += record.result.scored;
  });

  const [bootRate, meanScore] =
    scoredTasks.length > 0
      ? bootstrapMeans([rates, scores], { seed: `${options.seed}:${context.seedLabel}`, resamples: options.resamples, confidence: options.confidence })
      : [null, null];
  const passRate = bootRate ? withExactInterval(bootRate, rates, options.confidence) : null;
  const power = groupPower(
    scoredTasks.map((r) => ({ passes: r.result.passes, scored: r.result.scored })),
    options,
  );
  const curves = passCurves(scoredTasks.map((r) => ({ n: r.result.scored, c: r.result.passes })));
  return {
    tasks: records.length,
    n: scoredTasks.length,
    epochs,
    rollouts,
    passRate,
    taskMeanPassRate: passRate?.mean ?? null,
    pooledPassRate: attempts > 0 ? passes / attempts : null,
    meanScore: meanScore ?? null,
    passAtK: curves.passAtK,
    passHatK: curves.passHatK,
    flakyTasks: scoredTasks.filter((r) => r.result.passes > 0 && r.result.passes < r.result.scored).map((r) => r.meta.id),
    infraErrors: {
      count: infraCount,
      rate: rollouts > 0 ? infraCount / rollouts : 0,
      retried,
      tasksWithOnlyInfraErrors: records.filter((r) => r.result.scored === 0 && r.result.infraErrors > 0).map((r) => r.meta.id),
    },
    missingTasks: records.filter((r) => r.finals.length === 0).map((r) => r.meta.id),
    excludedTasks: context.excluded,
    byStatus,
    byTerminationReason,
    passRateSd: power?.sd ?? null,
    minDetectableEffect: power?.minDetectableEffect ?? null,
    requiredN: power?.requiredN ?? null,
    checks: checkRates(records),
  };
}
