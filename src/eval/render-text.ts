import type { Comparison, ComparisonRow } from './compare.ts';
import { fixed, percent, printable, pValueText, rateWithCi } from './format.ts';
import { OVERALL } from './report.ts';
import type { CheckRate, Estimate, EvalReport, GroupStats, ModelReport } from './schema.ts';

/**
 * Left-aligns the first column and right-aligns the rest; columns sized to their widest cell.
 * Cells are shown printable: a newline or an escape sequence in a name would break the rows.
 */
export function textTable(rawHeaders: readonly string[], rawRows: readonly (readonly string[])[]): string {
  const headers = rawHeaders.map((h) => printable(h));
  const rows = rawRows.map((r) => r.map((c) => printable(c)));
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** "pass^3 41.2%": pass^k at the largest k every task allows. */
export function topPassHat(stats: GroupStats): string {
  const ks = Object.keys(stats.passHatK).map(Number);
  if (ks.length === 0) return '—';
  const k = Math.max(...ks);
  return `k=${k} ${percent(stats.passHatK[String(k)])}`;
}

export function infraText(stats: GroupStats): string {
  return stats.infraErrors.count === 0 ? '0' : `${stats.infraErrors.count} (${percent(stats.infraErrors.rate)})`;
}

export function groupRows(model: ModelReport): Array<[string, GroupStats]> {
  return [[OVERALL, model.overall], ...Object.entries(model.domains)];
}

export const REPORT_COLUMNS = ['domain', 'n', 'epochs', 'pass rate [CI]', 'pooled', 'mean score', 'pass^k', 'flaky', 'infra errors', 'detectable Δ'] as const;

/** Marks a pass rate whose bootstrap interval had zero width; EXACT_NOTE explains it under the table. */
export const EXACT_MARK = '†';
export const EXACT_NOTE = `${EXACT_MARK} every task had the same pass rate (or n = 1), so the bootstrap interval has zero width, which is not certainty; shown instead: the exact Clopper–Pearson interval over tasks`;

/** The interval to show for a pass rate: the bootstrap one, or the exact one where the bootstrap's has zero width. */
export function shownInterval(estimate: Estimate): { ci: [number, number]; exact: boolean } | null {
  if (!estimate.degenerate) return { ci: estimate.ci, exact: false };
  return estimate.exact ? { ci: estimate.exact.ci, exact: true } : null;
}

/** "62.5% [55.0, 70.1]", "100.0% [91.0, 100.0]†" (exact), or "100.0% [interval unknown]" for a degenerate one with no exact interval. */
export function passRateText(estimate: Estimate): string {
  const shown = shownInterval(estimate);
  if (!shown) return `${percent(estimate.mean)} [interval unknown]`;
  return `${rateWithCi({ mean: estimate.mean, ci: shown.ci })}${shown.exact ? EXACT_MARK : ''}`;
}

/** The pooled pass rate where it reads differently from the per-task mean; "same" otherwise. */
export function pooledText(stats: GroupStats): string {
  if (stats.pooledPassRate === null) return '—';
  return percent(stats.pooledPassRate) === percent(stats.taskMeanPassRate) ? 'same' : percent(stats.pooledPassRate);
}

export function reportRow(group: string, stats: GroupStats): string[] {
  const ci = stats.passRate ? passRateText(stats.passRate) : stats.infraErrors.tasksWithOnlyInfraErrors.length > 0 ? 'infra errors only' : 'no scored tasks';
  return [
    group,
    String(stats.n),
    String(stats.epochs),
    ci,
    pooledText(stats),
    fixed(stats.meanScore?.mean ?? null),
    topPassHat(stats),
    String(stats.flakyTasks.length),
    infraText(stats),
    stats.n > 0 && stats.minDetectableEffect === null ? 'none' : fixed(stats.minDetectableEffect),
  ];
}

/** Whether any row of the model's table shows an exact interval (and so needs EXACT_NOTE). */
export function showsExact(model: ModelReport): boolean {
  return groupRows(model).some(([, stats]) => stats.passRate !== null && stats.passRate.degenerate);
}

function checkCell(rate: CheckRate | undefined): string {
  return rate ? `${rate.passed}/${rate.total} ${percent(rate.rate)}` : '—';
}

/** Per-check pass rates as a table: one row per check, worst overall first; overall, then each domain. */
export function checkTable(model: ModelReport): { headers: string[]; rows: string[][] } {
  const overall = model.overall.checks;
  const domains = Object.entries(model.domains).filter(([, stats]) => Object.keys(stats.checks).length > 0);
  const names = Object.keys(overall).sort((a, b) => (overall[a]?.rate ?? 0) - (overall[b]?.rate ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  return {
    headers: ['check', OVERALL, ...domains.map(([domain]) => domain)],
    rows: names.map((name) => [name, checkCell(overall[name]), ...domains.map(([, stats]) => checkCell(stats.checks[name]))]),
  };
}

export const PASS_K_HEADING = 'pass@k: at least one of k attempts passes; pass^k: all k pass (overall, mean over tasks)';

/** Overall pass@k and pass^k for every k the tasks allow; null with fewer than two (pass@1 is the pass rate). */
export function passKTable(model: ModelReport): { headers: string[]; rows: string[][] } | null {
  const ks = Object.keys(model.overall.passAtK).sort((a, b) => Number(a) - Number(b));
  if (ks.length < 2) return null;
  return {
    headers: ['k', ...ks],
    rows: [
      ['pass@k', ...ks.map((k) => percent(model.overall.passAtK[k]))],
      ['pass^k', ...ks.map((k) => percent(model.overall.passHatK[k]))],
    ],
  };
}

export const CHECKS_HEADING = 'Checks: pass rate of each verifier check over scored rollouts, worst first';

export function reportHeadline(report: EvalReport): string {
  const o = report.options;
  const excluded = report.excludedTasks.length > 0 ? `, ${report.excludedTasks.length} excluded` : '';
  return `${report.models.length} model(s)${excluded}; ${percent(o.confidence, 0)} task-bootstrap intervals (${o.resamples} resamples, seed ${o.seed}); detectable Δ at ${percent(o.power, 0)} power, α=${o.alpha} (exact paired test; none: too few tasks)`;
}

/** What the two pass rates mean, once per report. */
export const PASS_RATE_NOTE = 'pass rate: mean over tasks of each task’s pass rate; pooled: passed ÷ scored rollouts, shown where it differs';

/** The terminal report: one table per model, domains as rows. */
export function renderTable(report: EvalReport): string {
  const out: string[] = [`Gauntlet eval — ${reportHeadline(report)}`, PASS_RATE_NOTE];
  for (const model of report.models) {
    out.push('', printable(`${model.model} (${model.runId})`), textTable(REPORT_COLUMNS, groupRows(model).map(([g, s]) => reportRow(g, s))));
    if (showsExact(model)) out.push(EXACT_NOTE);
    for (const w of model.warnings) out.push(`  ! ${printable(w)}`);
    const passK = passKTable(model);
    if (passK) out.push('', PASS_K_HEADING, textTable(passK.headers, passK.rows));
    const checks = checkTable(model);
    if (checks.rows.length > 0) out.push('', CHECKS_HEADING, textTable(checks.headers, checks.rows));
  }
  if (report.excludedTasks.length > 0) {
    out.push('', 'Excluded tasks (golden solution failed validation, never scored):');
    for (const t of report.excludedTasks) out.push(`  - ${printable(`${t.id}: ${t.reason}`)}`);
  }
  const d = report.discrimination;
  if (d.models > 1) out.push('', `Tasks every model passes: ${d.allModelsPass.length}; tasks no model passes: ${d.noModelPasses.length}`);
  for (const w of report.warnings) out.push(`! ${printable(w)}`);
  return out.join('\n');
}

/** Marks a difference whose bootstrap interval had zero width; DEGENERATE_DIFFERENCE_NOTE explains it. */
export const DEGENERATE_MARK = '‡';
export const DEGENERATE_DIFFERENCE_NOTE = `${DEGENERATE_MARK} every paired task had the same difference (or n = 1): the bootstrap interval has zero width and is not shown, as it says nothing about the uncertainty`;

/** "+4.4 [+0.9, +7.8]" in percentage points; "±0.0 [no interval]‡" where the interval has zero width. */
export function differenceText(row: ComparisonRow): string {
  if (!row.difference) return '—';
  const pts = (x: number) => {
    const text = (x * 100).toFixed(1);
    return text === '-0.0' || text === '0.0' ? '±0.0' : `${x > 0 ? '+' : ''}${text}`;
  };
  if (row.difference.degenerate) return `${pts(row.difference.mean)} [no interval]${DEGENERATE_MARK}`;
  return `${pts(row.difference.mean)} [${pts(row.difference.ci[0])}, ${pts(row.difference.ci[1])}]`;
}

export function comparisonHasDegenerate(comparison: Comparison): boolean {
  return [comparison.overall, ...Object.values(comparison.domains)].some((r) => r.difference?.degenerate === true);
}

export const COMPARISON_COLUMNS = ['group', 'n', 'A', 'B', 'A − B pts [CI]', 'p', 'p (Holm)', 'verdict'] as const;

export function comparisonRows(comparison: Comparison): string[][] {
  const rows = [comparison.overall, ...Object.values(comparison.domains)];
  return rows.map((r) => [
    r.group,
    String(r.n),
    percent(r.passRateA),
    percent(r.passRateB),
    differenceText(r),
    pValueText(r.pValue) + (r.exact && r.pValue !== null ? ' (exact)' : ''),
    r.group === OVERALL ? '—' : pValueText(r.pAdjusted),
    r.verdict,
  ]);
}

export function comparisonMethod(comparison: Comparison): string {
  const o = comparison.options;
  const adjusted = Object.values(comparison.domains).filter((r) => r.intervalAdjustment === 'bonferroni');
  const domainLevel = adjusted[0]
    ? `domain intervals Bonferroni-adjusted to ${percent(adjusted[0].confidence)} each (${percent(o.confidence, 0)} jointly over ${adjusted.length} domains)`
    : 'domain intervals unadjusted (fewer than two domains tested)';
  return `paired sign-flip permutation test on per-task pass-rate differences (Holm–Bonferroni across domains), α=${o.alpha}; paired bootstrap intervals: overall ${percent(o.confidence, 0)}, ${domainLevel}; ${o.resamples} resamples, seed ${o.seed}`;
}

/** The tasks where one side trails the other most: where to start reading trajectories. */
export function largestGaps(comparison: Comparison, trailing: 'A' | 'B', limit = 5): Comparison['tasks'] {
  const sign = trailing === 'A' ? 1 : -1;
  return comparison.tasks
    .filter((t) => sign * t.difference < 0)
    .sort((x, y) => sign * (x.difference - y.difference))
    .slice(0, limit);
}

export function renderComparison(comparison: Comparison): string {
  const { a, b } = comparison;
  const out = [printable(`A = ${a.model} (${a.runId})`), printable(`B = ${b.model} (${b.runId})`), comparisonMethod(comparison), '', textTable(COMPARISON_COLUMNS, comparisonRows(comparison))];
  if (comparisonHasDegenerate(comparison)) out.push(DEGENERATE_DIFFERENCE_NOTE);
  for (const side of ['A', 'B'] as const) {
    const gaps = largestGaps(comparison, side);
    if (gaps.length > 0) out.push('', `Tasks where ${side} trails most: ${gaps.map((t) => `${printable(t.id)} (${percent(t.passRateA, 0)} vs ${percent(t.passRateB, 0)})`).join(', ')}`);
  }
  for (const w of comparison.warnings) out.push(`! ${printable(w)}`);
  return out.join('\n');
}
