import { GAUNTLET_VERSION, InputError, parseInput } from '../core/index.ts';
import { discrimination } from './discrimination.ts';
import { fixed, idList, percent, plural } from './format.ts';
import { groupStats } from './group.ts';
import { minDecisivePairs } from './power.ts';
import { EVAL_REPORT_VERSION, EvalOptions } from './schema.ts';
import type { EvalMeta, EvalOptionsInput, EvalReport, ExcludedTask, GroupStats, ModelReport, ResolvedEvalOptions } from './schema.ts';
import { collectRun } from './tasks.ts';
import type { CollectNotes, RunInput, TaskMeta, TaskRecord } from './tasks.ts';

export interface EvalInput {
  /** One entry per model run; each becomes one `models[]` entry of the report. */
  runs: readonly RunInput[];
  /** The suite: every task that should have been run, with its domain. */
  tasks: readonly TaskMeta[];
  /** Tasks whose golden solution failed validation: listed with the reason, never scored. */
  excludedTasks?: readonly ExcludedTask[];
  options: EvalOptionsInput;
  /** Reproducibility metadata; passed through, with defaults for what is left out. */
  meta?: Partial<EvalMeta>;
}

export const OVERALL = 'overall';

export function resolveOptions(options: EvalOptionsInput): ResolvedEvalOptions {
  const parsed = parseInput(EvalOptions, options, 'eval options');
  return { ...parsed, minEffect: parsed.minEffect ?? null };
}

function checkUnique(ids: readonly string[], where: string, what: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new InputError(where, `${what} "${id}" appears twice`, `each ${what} once`);
    seen.add(id);
  }
}

/** Per-model and per-domain statistics for a set of runs over one suite. Pure: same input, same report. */
export function buildReport(input: EvalInput): EvalReport {
  const options = resolveOptions(input.options);
  checkUnique(
    input.tasks.map((t) => t.id),
    'eval tasks',
    'task id',
  );
  checkUnique(
    input.runs.map((r) => r.runId),
    'eval runs',
    'run id',
  );
  const excludedTasks = [...(input.excludedTasks ?? [])];
  const excludedIds = new Set(excludedTasks.map((t) => t.id));
  const domainOf = new Map(input.tasks.map((t) => [t.id, t.domain]));
  const domains = [...new Set(input.tasks.filter((t) => !excludedIds.has(t.id)).map((t) => t.domain))].sort();

  const models = input.runs.map((run): ModelReport => {
    const { records, notes } = collectRun(run, input.tasks, excludedIds);
    const overall = groupStats(records, { options, seedLabel: `${run.runId}:${OVERALL}`, excluded: excludedTasks });
    const byDomain: Record<string, GroupStats> = {};
    for (const domain of domains) {
      byDomain[domain] = groupStats(
        records.filter((r) => r.meta.domain === domain),
        { options, seedLabel: `${run.runId}:domain:${domain}`, excluded: excludedTasks.filter((t) => domainOf.get(t.id) === domain) },
      );
    }
    return {
      runId: run.runId,
      model: run.model,
      overall,
      domains: byDomain,
      tasks: records.map((r) => r.result),
      warnings: modelWarnings({ overall, domains: byDomain, records, notes, options }),
    };
  });

  const warnings: string[] = [];
  if (excludedTasks.length > 0) {
    warnings.push(
      `${plural(excludedTasks.length, 'task')} excluded and never scored: ${idList(excludedTasks.map((t) => `${t.id} (${t.reason})`))}`,
    );
  }
  if (input.runs.length === 0) warnings.push('no runs given: the report has no models');

  return {
    kind: 'gauntlet.eval-report',
    version: EVAL_REPORT_VERSION,
    meta: {
      gauntletVersion: input.meta?.gauntletVersion ?? GAUNTLET_VERSION,
      config: input.meta?.config ?? {},
      seeds: { eval: options.seed, ...input.meta?.seeds },
      models: input.meta?.models ?? input.runs.map((r) => ({ runId: r.runId, model: r.model })),
      sampling: input.meta?.sampling ?? {},
      createdAt: input.meta?.createdAt ?? null,
    },
    options,
    models,
    excludedTasks,
    discrimination: discrimination(models.map((m) => m.tasks)),
    warnings,
  };
}

interface WarningInput {
  overall: GroupStats;
  domains: Record<string, GroupStats>;
  records: readonly TaskRecord[];
  notes: CollectNotes;
  options: ResolvedEvalOptions;
}

function modelWarnings({ overall, domains, records, notes, options }: WarningInput): string[] {
  const out: string[] = [];
  const infra = overall.infraErrors;
  if (infra.count > 0) {
    out.push(
      `${infra.count} of ${overall.rollouts} rollouts (${percent(infra.rate)}) ended in infra errors; they are not failures and are left out of pass rates`,
    );
  }
  if (infra.retried > 0) out.push(`${plural(infra.retried, 'attempt')} failed on infrastructure and ${infra.retried === 1 ? 'was' : 'were'} retried`);
  if (infra.tasksWithOnlyInfraErrors.length > 0) {
    const count = infra.tasksWithOnlyInfraErrors.length;
    out.push(`${plural(count, 'task')} ${count === 1 ? 'has' : 'have'} only infra errors and ${count === 1 ? 'is' : 'are'} not in n: ${idList(infra.tasksWithOnlyInfraErrors)}`);
  }
  if (overall.byStatus.error > 0) {
    const tasks = records.filter((r) => r.result.errors > 0).map((r) => r.meta.id);
    out.push(
      `${plural(overall.byStatus.error, 'rollout')} ended in an error (a defect in Gauntlet's or the environment's code, not the model's): never scored, fix it and re-run: ${idList(tasks)}`,
    );
  }
  if (overall.byStatus.cancelled > 0) out.push(`${plural(overall.byStatus.cancelled, 'rollout')} cancelled; left out of pass rates`);
  const missing = overall.missingTasks.length;
  if (missing > 0) out.push(`${plural(missing, 'task')} ${missing === 1 ? 'has' : 'have'} no rollouts: ${idList(overall.missingTasks)}`);
  if (notes.unlisted.size > 0) {
    const count = [...notes.unlisted.values()].reduce((a, b) => a + b, 0);
    out.push(`${plural(count, 'rollout')} of ${plural(notes.unlisted.size, 'task')} not in the task list left out: ${idList([...notes.unlisted.keys()])}`);
  }
  if (notes.duplicates > 0) out.push(`${plural(notes.duplicates, 'rollout')} repeat a task, epoch and attempt; the later record of each was used`);
  if (notes.scoredWithoutVerdict.length > 0) {
    out.push(`${plural(notes.scoredWithoutVerdict.length, 'rollout')} marked scored without a passed value left out: ${idList(notes.scoredWithoutVerdict)}`);
  }
  const maxK = Object.keys(overall.passHatK).length;
  if (maxK > 0 && maxK < overall.epochs) {
    const limiting = records.find((r) => r.result.scored === maxK);
    out.push(`pass@k and pass^k stop at k=${maxK}: task ${limiting?.meta.id ?? '?'} has only ${plural(maxK, 'scored attempt')}`);
  }
  const groups: Array<[string, GroupStats]> = [[OVERALL, overall], ...Object.entries(domains).map(([d, s]): [string, GroupStats] => [`domain ${d}`, s])];
  const at = `at ${percent(options.power, 0)} power (α=${options.alpha})`;
  for (const [label, stats] of groups) {
    if (stats.n === 0) {
      if (stats.tasks > 0) out.push(`${label}: no scored tasks, so no pass rate`);
      continue;
    }
    const mde = stats.minDetectableEffect;
    const needs = options.minEffect !== null && stats.requiredN !== null ? `; --min-effect ${options.minEffect} needs n ≥ ${stats.requiredN}` : '';
    if (mde === null) {
      out.push(`${label}: n=${stats.n} is too few for the exact test to detect any difference ${at}: it needs at least ${minDecisivePairs(options.alpha)} tasks whose results differ${needs}`);
    } else if (options.minEffect !== null && mde > options.minEffect) {
      out.push(`${label}: n=${stats.n} can only detect differences ≥ ${fixed(mde)} ${at}${needs}`);
    } else if (options.minEffect === null && stats.n < 10) {
      out.push(`${label}: n=${stats.n} is too few tasks for trustworthy intervals; it can only detect differences ≥ ${fixed(mde)} ${at}`);
    }
  }
  const degenerate = groups.filter(([, stats]) => stats.passRate?.degenerate).map(([label]) => label);
  if (degenerate.length > 0) {
    out.push(
      `${idList(degenerate)}: every task had the same pass rate (or n = 1), so the bootstrap interval has zero width, which is not certainty; the exact Clopper–Pearson interval over tasks is given instead (passRate.exact)`,
    );
  }
  return out;
}
