import { RolloutStatus, TerminationReason } from '../core/index.ts';
import { bootstrapMeans } from './bootstrap.ts';
import { passCurves } from './passk.ts';
import type { CheckRate, ExcludedTask, GroupStats, ResolvedEvalOptions } from './schema.ts';
import { sampleVariance, signFlipDetectable, signFlipRequiredN } from './stats.ts';
import type { TaskRecord } from './tasks.ts';

export interface GroupPower {
  sd: number;
  minDetectableEffect: number;
  requiredN: number | null;
}

/**
 * Power figures for comparing this group's pass rate with another model's on the same n tasks.
 *
 * Approximation: the other model is taken to have the same per-task variance σ² and to vary
 * independently of this one, so a per-task difference has sd s = √(2σ²); the power is then that
 * of the paired sign-flip test `compareRuns` runs, in its normal approximation (see
 * `signFlipPower`). σ² is the sample variance of per-task pass rates (it holds both how tasks
 * differ and the binomial noise of a few epochs), floored at the binomial variance p(1−p)/epochs a
 * task set of uniform difficulty would show, so all-pass or all-fail groups do not claim infinite
 * power (p shrunk as (passes + ½)/(attempts + 1)). Models scored on the same tasks usually find the
 * same tasks hard, which makes their per-task rates correlate positively and the paired test more
 * powerful than this, so the figure is a conservative bound.
 */
export function groupPower(rates: Float64Array, counts: { passes: number; attempts: number }, options: ResolvedEvalOptions): GroupPower | null {
  const n = rates.length;
  if (n === 0 || counts.attempts === 0) return null;
  const shrunk = (counts.passes + 0.5) / (counts.attempts + 1);
  const binomialFloor = (shrunk * (1 - shrunk)) / (counts.attempts / n);
  const variance = Math.max(sampleVariance(rates), binomialFloor);
  const sd = Math.sqrt(2 * variance);
  const { alpha, power } = options;
  return {
    sd: Math.sqrt(variance),
    minDetectableEffect: signFlipDetectable({ sd, n, alpha, power }),
    requiredN: options.minEffect === null ? null : signFlipRequiredN(options.minEffect, { sd, alpha, power }),
  };
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

  const [passRate, meanScore] =
    scoredTasks.length > 0
      ? bootstrapMeans([rates, scores], { seed: `${options.seed}:${context.seedLabel}`, resamples: options.resamples, confidence: options.confidence })
      : [null, null];
  const power = groupPower(rates, { passes, attempts }, options);
  const curves = passCurves(scoredTasks.map((r) => ({ n: r.result.scored, c: r.result.passes })));
  return {
    tasks: records.length,
    n: scoredTasks.length,
    epochs,
    rollouts,
    passRate: passRate ?? null,
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
