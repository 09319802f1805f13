import { z } from 'zod';
import { parseInput } from '../core/index.ts';
import { bootstrapMeans, signFlipTest } from './bootstrap.ts';
import { idList, plural } from './format.ts';
import { OVERALL } from './report.ts';
import { Estimate } from './schema.ts';
import type { ExcludedTask, ModelReport, TaskResult } from './schema.ts';
import { fitTaskModel, minDetectableDifference } from './power.ts';
import type { TaskModel } from './power.ts';
import { holmAdjust } from './stats.ts';
import { collectRun } from './tasks.ts';
import type { RunInput, TaskMeta } from './tasks.ts';
import { upgradeComparison } from './upgrade.ts';

const Count = z.number().int().nonnegative();
const Probability = z.number().min(0).max(1);

/** "no paired tasks" is said instead of "no significant difference" when there was nothing to test. */
export const Verdict = z.enum(['A better', 'B better', 'no significant difference', 'no paired tasks']);
export type Verdict = z.infer<typeof Verdict>;

export const ComparisonRow = z.object({
  /** `overall` or a domain. */
  group: z.string(),
  /** Tasks scored in both runs: the pairs every figure of the row is over. */
  n: Count,
  /** Mean per-task pass rates over the paired tasks. */
  passRateA: Probability.nullable(),
  passRateB: Probability.nullable(),
  /** Mean of per-task (A − B) pass-rate differences, with a paired bootstrap interval at `confidence`. */
  difference: Estimate.nullable(),
  /**
   * Level of this row's interval. Domain rows are Bonferroni-adjusted, 1 − (1 − options.confidence)/D
   * over the D domains with pairs, so that all of them hold together at options.confidence, like
   * the Holm-adjusted p-values beside them; the overall row is one test and is not adjusted.
   */
  confidence: z.number(),
  intervalAdjustment: z.enum(['none', 'bonferroni']),
  /** Two-sided paired sign-flip permutation test. */
  pValue: Probability.nullable(),
  /** Holm–Bonferroni across the domain rows; the overall row is its own test and keeps pValue. */
  pAdjusted: Probability.nullable(),
  /** The p-value enumerated every sign pattern rather than sampling them. */
  exact: z.boolean(),
  verdict: Verdict,
  tasksBetterA: Count,
  tasksBetterB: Count,
  ties: Count,
  /**
   * Smallest true difference this many pairs detects with the options' power, by the exact-test
   * power model of power.ts; domain rows at α/D, the level Holm's first step tests at. Null when
   * no difference is detectable (too few pairs for the exact test).
   */
  minDetectableEffect: z.number().nullable(),
});
export type ComparisonRow = z.infer<typeof ComparisonRow>;

export const PairedTask = z.object({
  id: z.string(),
  domain: z.string(),
  passRateA: Probability,
  passRateB: Probability,
  difference: z.number().min(-1).max(1),
});
export type PairedTask = z.infer<typeof PairedTask>;

const Side = z.object({ runId: z.string(), model: z.string() });

const CurrentComparison = z.object({
  kind: z.literal('gauntlet.comparison'),
  /** 2: interval levels per row (domain rows adjusted), degenerate intervals flagged. */
  version: z.literal(2),
  a: Side,
  b: Side,
  options: z.object({ seed: z.number().int(), resamples: z.number().int(), alpha: z.number(), confidence: z.number(), power: z.number() }),
  overall: ComparisonRow,
  /** Keyed by domain; every domain with a task in either run appears. */
  domains: z.record(z.string(), ComparisonRow),
  /** Per-task differences, in suite order. */
  tasks: z.array(PairedTask),
  /** Tasks scored in one run only (not run, excluded in the other, or only infra errors); not compared. */
  unpaired: z.object({ onlyA: z.array(z.string()), onlyB: z.array(z.string()) }),
  warnings: z.array(z.string()),
});

/** A comparison of this version, or of version 1 upgraded on read. */
export const Comparison = z.preprocess(upgradeComparison, CurrentComparison);
export type Comparison = z.infer<typeof CurrentComparison>;

export interface CompareSettings {
  seed: number;
  /** Bootstrap resamples and Monte Carlo sign flips; default 10,000. */
  resamples?: number;
  alpha?: number;
  confidence?: number;
  power?: number;
}

export interface CompareRunsOptions extends CompareSettings {
  a: RunInput;
  b: RunInput;
  tasks: readonly TaskMeta[];
  excludedTasks?: readonly ExcludedTask[];
}

/** Paired comparison of two runs over the tasks both scored, per domain and overall. */
export function compareRuns(options: CompareRunsOptions): Comparison {
  const excluded = new Set((options.excludedTasks ?? []).map((t) => t.id));
  const side = (run: RunInput) => ({ runId: run.runId, model: run.model, tasks: collectRun(run, options.tasks, excluded).records.map((r) => r.result) });
  return compareTaskResults(side(options.a), side(options.b), options);
}

/** The same comparison from two stored reports' per-task results (e.g. this week's against last week's). */
export function compareReports(options: CompareSettings & { a: ModelReport; b: ModelReport }): Comparison {
  return compareTaskResults(options.a, options.b, options);
}

interface SideInput {
  runId: string;
  model: string;
  tasks: readonly TaskResult[];
}

const Settings = z.object({
  seed: z.number().int(),
  resamples: z.number().int().min(1).max(1_000_000).default(10_000),
  alpha: z.number().gt(0).lt(1).default(0.05),
  confidence: z.number().gt(0).lt(1).default(0.95),
  power: z.number().gt(0).lt(1).default(0.8),
});

export function compareTaskResults(a: SideInput, b: SideInput, settings: CompareSettings): Comparison {
  const { seed, resamples, alpha, confidence, power } = settings;
  const opts = parseInput(Settings, { seed, resamples, alpha, confidence, power }, 'compare options');
  const scoredB = new Map(b.tasks.filter((t) => t.scored > 0).map((t) => [t.id, t]));
  const scoredA = new Set(a.tasks.filter((t) => t.scored > 0).map((t) => t.id));
  const pairs: Array<{ a: TaskResult; b: TaskResult }> = [];
  for (const ta of a.tasks) {
    const tb = scoredB.get(ta.id);
    if (ta.scored > 0 && tb) pairs.push({ a: ta, b: tb });
  }
  const onlyA = [...scoredA].filter((id) => !scoredB.has(id));
  const onlyB = [...scoredB.keys()].filter((id) => !scoredA.has(id));
  const domains = [...new Set([...a.tasks, ...b.tasks].map((t) => t.domain))].sort();

  const overall = compareGroup(OVERALL, pairs, { ...opts, tests: 1 });
  const pairsIn = new Map(domains.map((d) => [d, pairs.filter((p) => p.a.domain === d)]));
  // Domains with pairs are the hypotheses Holm adjusts over; intervals get the matching Bonferroni level.
  const tests = [...pairsIn.values()].filter((p) => p.length > 0).length;
  const domainRows = domains.map((d) => compareGroup(d, pairsIn.get(d) ?? [], { ...opts, tests }));
  // Holm over the domains that could be tested; a domain with no pairs is not a hypothesis.
  const tested = domainRows.filter((r) => r.pValue !== null);
  holmAdjust(tested.map((r) => r.pValue as number)).forEach((adjusted, i) => {
    const row = tested[i] as ComparisonRow;
    row.pAdjusted = adjusted;
    row.verdict = verdictFor(row, opts.alpha);
  });

  const warnings: string[] = [];
  if (a.runId === b.runId) warnings.push(`A and B are the same run (${a.runId}): every task ties with itself, so this says nothing about the model`);
  if (onlyA.length > 0) warnings.push(`${plural(onlyA.length, 'task')} scored only in A (${a.model}) are not compared: ${idList(onlyA)}`);
  if (onlyB.length > 0) warnings.push(`${plural(onlyB.length, 'task')} scored only in B (${b.model}) are not compared: ${idList(onlyB)}`);
  if (overall.verdict === 'no significant difference') {
    const power = `${Math.round(opts.power * 100)}% power`;
    warnings.push(
      overall.minDetectableEffect === null
        ? `no significant difference overall; with n=${overall.n} pairs the exact test detects no difference at ${power}`
        : `no significant difference overall; with n=${overall.n} pairs only differences ≥ ${overall.minDetectableEffect.toFixed(2)} are detected at ${power}`,
    );
  }

  return {
    kind: 'gauntlet.comparison',
    version: 2,
    a: { runId: a.runId, model: a.model },
    b: { runId: b.runId, model: b.model },
    options: opts,
    overall,
    domains: Object.fromEntries(domainRows.map((r) => [r.group, r])),
    tasks: pairs.map((p) => {
      const rateA = p.a.passRate ?? 0;
      const rateB = p.b.passRate ?? 0;
      return { id: p.a.id, domain: p.a.domain, passRateA: rateA, passRateB: rateB, difference: rateA - rateB };
    }),
    unpaired: { onlyA, onlyB },
    warnings,
  };
}

function verdictFor(row: ComparisonRow, alpha: number): Verdict {
  if (row.n === 0 || row.pAdjusted === null || !row.difference) return 'no paired tasks';
  if (row.pAdjusted >= alpha) return 'no significant difference';
  return row.difference.mean > 0 ? 'A better' : 'B better';
}

type Resolved = Required<CompareSettings> & {
  /** Hypotheses this row is adjusted over: 1 for the overall row, the tested domains for a domain row. */
  tests: number;
};

function compareGroup(group: string, pairs: ReadonlyArray<{ a: TaskResult; b: TaskResult }>, opts: Resolved): ComparisonRow {
  const n = pairs.length;
  const adjusted = opts.tests > 1;
  const confidence = adjusted ? 1 - (1 - opts.confidence) / opts.tests : opts.confidence;
  const empty: ComparisonRow = {
    group,
    n,
    passRateA: null,
    passRateB: null,
    difference: null,
    confidence,
    intervalAdjustment: adjusted ? 'bonferroni' : 'none',
    pValue: null,
    pAdjusted: null,
    exact: false,
    verdict: 'no paired tasks',
    tasksBetterA: 0,
    tasksBetterB: 0,
    ties: 0,
    minDetectableEffect: null,
  };
  if (n === 0) return empty;
  const diffs = new Float64Array(n);
  let sumA = 0;
  let sumB = 0;
  let betterA = 0;
  let betterB = 0;
  pairs.forEach(({ a, b }, i) => {
    const d = (a.passRate ?? 0) - (b.passRate ?? 0);
    diffs[i] = d;
    sumA += a.passRate ?? 0;
    sumB += b.passRate ?? 0;
    if (d > 0) betterA++;
    else if (d < 0) betterB++;
  });
  const [difference] = bootstrapMeans([diffs], { seed: `${opts.seed}:compare:${group}:ci`, resamples: opts.resamples, confidence });
  const test = signFlipTest(diffs, { seed: `${opts.seed}:compare:${group}:test`, resamples: opts.resamples });
  const model = pairedModel(pairs);
  const row: ComparisonRow = {
    ...empty,
    passRateA: sumA / n,
    passRateB: sumB / n,
    difference: difference ?? null,
    pValue: test.pValue,
    pAdjusted: test.pValue,
    exact: test.exact,
    tasksBetterA: betterA,
    tasksBetterB: betterB,
    ties: n - betterA - betterB,
    minDetectableEffect: model ? minDetectableDifference({ tasks: n, model: model.b, otherEpochs: model.a.epochs, alpha: opts.alpha / opts.tests, power: opts.power }) : null,
  };
  row.verdict = verdictFor(row, opts.alpha);
  return row;
}

/**
 * The task model the power figure assumes for these pairs: each side fitted on its own (see
 * power.ts), then given their pooled mean and average ρ, so the figure is the same whichever run
 * is A. B's epochs are the base and A's the other side's.
 */
function pairedModel(pairs: ReadonlyArray<{ a: TaskResult; b: TaskResult }>): { a: TaskModel; b: TaskModel } | null {
  const fit = (side: 'a' | 'b') => fitTaskModel(pairs.map((p) => ({ passes: p[side].passes, scored: p[side].scored })));
  const a = fit('a');
  const b = fit('b');
  if (!a || !b) return null;
  let passes = 0;
  let attempts = 0;
  for (const p of pairs) {
    passes += p.a.passes + p.b.passes;
    attempts += p.a.scored + p.b.scored;
  }
  const shared = { mean: passes / attempts, rho: (a.rho + b.rho) / 2 };
  return { a: { ...shared, epochs: a.epochs }, b: { ...shared, epochs: b.epochs } };
}
