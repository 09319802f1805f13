import type { Comparison, ComparisonRow } from './compare.ts';
import { fixed, percent, pValueText, rateWithCi } from './format.ts';
import { OVERALL } from './report.ts';
import type { CheckRate, EvalReport, GroupStats, ModelReport } from './schema.ts';

/** Left-aligns the first column and right-aligns the rest; columns sized to their widest cell. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
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

export const REPORT_COLUMNS = ['domain', 'n', 'epochs', 'pass rate [CI]', 'mean score', 'pass^k', 'flaky', 'infra errors', 'detectable Δ'] as const;

export function reportRow(group: string, stats: GroupStats): string[] {
  const ci = stats.passRate ? rateWithCi(stats.passRate) : stats.infraErrors.tasksWithOnlyInfraErrors.length > 0 ? 'infra errors only' : 'no scored tasks';
  return [
    group,
    String(stats.n),
    String(stats.epochs),
    ci,
    fixed(stats.meanScore?.mean ?? null),
    topPassHat(stats),
    String(stats.flakyTasks.length),
    infraText(stats),
    fixed(stats.minDetectableEffect),
  ];
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

export const CHECKS_HEADING = 'Checks: pass rate of each verifier check over scored rollouts, worst first';

export function reportHeadline(report: EvalReport): string {
  const o = report.options;
  const excluded = report.excludedTasks.length > 0 ? `, ${report.excludedTasks.length} excluded` : '';
  return `${report.models.length} model(s)${excluded}; ${percent(o.confidence, 0)} task-bootstrap intervals (${o.resamples} resamples, seed ${o.seed}); detectable Δ at ${percent(o.power, 0)} power, α=${o.alpha}`;
}

/** The terminal report: one table per model, domains as rows. */
export function renderTable(report: EvalReport): string {
  const out: string[] = [`Gauntlet eval — ${reportHeadline(report)}`];
  for (const model of report.models) {
    out.push('', `${model.model} (${model.runId})`, textTable(REPORT_COLUMNS, groupRows(model).map(([g, s]) => reportRow(g, s))));
    for (const w of model.warnings) out.push(`  ! ${w}`);
    const checks = checkTable(model);
    if (checks.rows.length > 0) out.push('', CHECKS_HEADING, textTable(checks.headers, checks.rows));
  }
  if (report.excludedTasks.length > 0) {
    out.push('', 'Excluded tasks (golden solution failed validation, never scored):');
    for (const t of report.excludedTasks) out.push(`  - ${t.id}: ${t.reason}`);
  }
  const d = report.discrimination;
  if (d.models > 1) out.push('', `Tasks every model passes: ${d.allModelsPass.length}; tasks no model passes: ${d.noModelPasses.length}`);
  for (const w of report.warnings) out.push(`! ${w}`);
  return out.join('\n');
}

/** "+4.4 [+0.9, +7.8]" in percentage points. */
export function differenceText(row: ComparisonRow): string {
  if (!row.difference) return '—';
  const pts = (x: number) => {
    const text = (x * 100).toFixed(1);
    return text === '-0.0' || text === '0.0' ? '±0.0' : `${x > 0 ? '+' : ''}${text}`;
  };
  return `${pts(row.difference.mean)} [${pts(row.difference.ci[0])}, ${pts(row.difference.ci[1])}]`;
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
  return `paired sign-flip permutation test on per-task pass-rate differences (Holm–Bonferroni across domains), α=${o.alpha}; ${percent(o.confidence, 0)} paired bootstrap intervals, ${o.resamples} resamples, seed ${o.seed}`;
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
  const out = [`A = ${a.model} (${a.runId})`, `B = ${b.model} (${b.runId})`, comparisonMethod(comparison), '', textTable(COMPARISON_COLUMNS, comparisonRows(comparison))];
  for (const side of ['A', 'B'] as const) {
    const gaps = largestGaps(comparison, side);
    if (gaps.length > 0) out.push('', `Tasks where ${side} trails most: ${gaps.map((t) => `${t.id} (${percent(t.passRateA, 0)} vs ${percent(t.passRateB, 0)})`).join(', ')}`);
  }
  for (const w of comparison.warnings) out.push(`! ${w}`);
  return out.join('\n');
}
