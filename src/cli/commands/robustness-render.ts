// The robustness report as text, Markdown, HTML and an SVG forest plot of each arm's paired gap
// (the chart the web viewer shows from the report's JSON).
import type { Estimate } from '../../eval/index.ts';
import type { ArmRow, RobustnessReport } from './robustness-report.ts';

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

/** A pass rate with its interval; a degenerate bootstrap interval gives way to the exact one, marked. */
function rate(estimate: Estimate | null): string {
  if (!estimate) return '—';
  const ci = estimate.exact?.ci ?? estimate.ci;
  return `${percent(estimate.mean)} [${(ci[0] * 100).toFixed(1)}, ${(ci[1] * 100).toFixed(1)}]${estimate.exact ? '*' : ''}`;
}

/** Marks a gap whose bootstrap interval has zero width (one pair, or every pair moved alike). */
const NO_INTERVAL = '‡';

/** A gap in points with its interval; a zero-width one is not shown as if it were certainty. */
function points(estimate: Estimate | null): string {
  if (!estimate) return '—';
  const sign = (v: number) => `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
  if (estimate.degenerate) return `${sign(estimate.mean)} pts [no interval]${NO_INTERVAL}`;
  return `${sign(estimate.mean)} pts [${sign(estimate.ci[0])}, ${sign(estimate.ci[1])}]`;
}

/** Arms the paired comparison could test: the rest had no task scored both in them and in the baseline. */
function tested(report: RobustnessReport): ArmRow[] {
  return report.arms.filter((a) => a.verdict !== 'no paired tasks');
}

/** "; 2 arms had no paired tasks", so a headline never reads as a clean bill for arms never compared. */
function untestedClause(report: RobustnessReport, unit: string): string {
  const n = report.arms.length - tested(report).length;
  return n === 0 ? '' : `; ${n} ${unit}${n === 1 ? '' : 's'} had no paired tasks and could not be compared`;
}

function pValue(p: number | null): string {
  return p === null ? '—' : p < 0.001 ? '<0.001' : p.toFixed(3);
}

const COLUMNS = ['arm', 'split', 'pass rate', 'gap vs baseline', 'p (Holm)', 'verdict', 'pairs', 'worse/better'] as const;

function armCells(row: ArmRow): string[] {
  const base = row.split === 'baseline';
  return [row.id, row.split, rate(row.passRate), base ? '' : points(row.gap), pValue(row.pAdjusted), base ? '' : row.verdict, String(row.pairs), base ? '' : `${row.tasksWorse}/${row.tasksBetter}`];
}

function headline(report: RobustnessReport): string {
  const m = report.meta;
  const compared = tested(report).length;
  if (m.matrix) {
    const differ = report.arms.filter((a) => a.verdict === 'hurts' || a.verdict === 'helps');
    const which =
      compared === 0
        ? `no cell could be compared with ${report.baseline.id} (no paired tasks)`
        : `${differ.length === 0 ? `no cell differs significantly from ${report.baseline.id}` : `${differ.length} of ${compared} cells differ significantly from ${report.baseline.id}: ${differ.map((d) => `${d.id} (${d.verdict})`).join('; ')}`}${untestedClause(report, 'cell')}`;
    return `${m.matrix.models.length} model(s) × ${m.matrix.scaffolds.length} scaffold(s) on ${m.envs.join(', ')} (${m.tasks} tasks × ${m.epochs} epochs, same worlds in every cell): ${which} (α = ${m.alpha}, Holm across ${compared} cells).`;
  }
  const harms = report.arms.filter((a) => a.verdict === 'hurts');
  const which =
    compared === 0
      ? 'no arm could be compared with the baseline (no paired tasks)'
      : `${harms.length === 0 ? 'no perturbation hurts significantly' : `${harms.length} of ${compared} arms hurt significantly: ${harms.map((h) => h.id).join('; ')}`}${untestedClause(report, 'arm')}`;
  return `${m.model} on ${m.envs.join(', ')} (${m.tasks} tasks × ${m.epochs} epochs, suite ${m.suite}): ${which} (α = ${m.alpha}, Holm across ${compared} arms).`;
}

const NOTES = [
  'pass rate: mean over tasks of each task’s pass rate (over the tasks the arm applies to), bootstrap interval over tasks (* exact Clopper–Pearson where the bootstrap has zero width).',
  `gap: mean per-task (arm − baseline) difference over tasks scored in both, paired bootstrap interval (${NO_INTERVAL} none where it has zero width: one pair, or every pair moved alike, which is not certainty); p: sign-flip test, Holm-adjusted across arms.`,
];

function generalisationLines(report: RobustnessReport): string[] {
  const g = report.generalisation;
  const lines: string[] = [];
  if (g.seen) lines.push(`seen families: mean gap ${points(g.seen.gap)} over ${g.seen.tasks} tasks and ${g.seen.arms} arms (p ${pValue(g.seen.pValue)})`);
  if (g.heldOut) lines.push(`held-out families: mean gap ${points(g.heldOut.gap)} over ${g.heldOut.tasks} tasks and ${g.heldOut.arms} arms (p ${pValue(g.heldOut.pValue)})`);
  if (g.difference) lines.push(`held-out − seen: ${points(g.difference)} (p ${pValue(g.pValue)})`);
  return lines;
}

function worstLines(report: RobustnessReport): string[] {
  return report.arms
    .filter((a) => a.worstTasks.length > 0)
    .map((a) => `${a.id}: ${a.worstTasks.map((t) => `${t.id} ${percent(t.baseline)}→${percent(t.perturbed)}`).join(', ')}`);
}

function pad(cells: readonly (readonly string[])[]): string[] {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return cells.map((r) => r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd());
}

export function renderRobustnessText(report: RobustnessReport): string {
  const out = [headline(report), '', ...pad([[...COLUMNS], armCells(report.baseline), ...report.arms.map(armCells)]), '', ...NOTES];
  const general = generalisationLines(report);
  if (general.length > 0) out.push('', 'Generalisation:', ...general.map((l) => `  ${l}`));
  const worst = worstLines(report);
  if (worst.length > 0) out.push('', 'Worst tasks per arm (baseline → perturbed):', ...worst.map((l) => `  ${l}`));
  const skipped = report.arms.filter((a) => a.notApplicable.length > 0);
  if (skipped.length > 0) out.push('', 'Not applicable:', ...skipped.map((a) => `  ${a.id}: ${a.notApplicable.length} task(s), e.g. ${a.notApplicable[0]!.id} (${a.notApplicable[0]!.reason})`));
  if (report.warnings.length > 0) out.push('', ...report.warnings.map((w) => `⚠ ${w}`));
  return `${out.join('\n')}\n`;
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderRobustnessMarkdown(report: RobustnessReport): string {
  const line = (cells: readonly string[]) => `| ${cells.map(mdCell).join(' | ')} |`;
  const out = [
    '# Gauntlet robustness report',
    '',
    headline(report),
    '',
    line(COLUMNS),
    `|${COLUMNS.map(() => ' --- ').join('|')}|`,
    line(armCells(report.baseline)),
    ...report.arms.map((a) => line(armCells(a))),
    '',
    ...NOTES.map((n) => `- ${n}`),
  ];
  const general = generalisationLines(report);
  if (general.length > 0) out.push('', '## Generalisation', '', ...general.map((l) => `- ${l}`));
  const worst = worstLines(report);
  if (worst.length > 0) out.push('', '## Worst tasks per arm', '', ...worst.map((l) => `- ${mdCell(l)}`));
  if (report.warnings.length > 0) out.push('', '## Warnings', '', ...report.warnings.map((w) => `- ${mdCell(w)}`));
  out.push('', `<sub>gauntlet ${report.meta.gauntletVersion}, ${report.meta.createdAt}</sub>`);
  return `${out.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const ROW = 28;
const LABEL = 330;
const PLOT = 360;
const RIGHT = 150;

/** A forest plot: each arm's paired gap to the baseline with its interval, harms in red. */
export function renderRobustnessSvg(report: RobustnessReport): string {
  const arms = report.arms;
  const top = 46;
  const height = top + arms.length * ROW + 34;
  const width = LABEL + PLOT + RIGHT;
  // The axis spans the data, at least ±10 points, in whole tens.
  const extent = Math.max(0.1, ...arms.flatMap((a) => (a.gap ? [Math.abs(a.gap.ci[0]), Math.abs(a.gap.ci[1])] : [])));
  const span = Math.min(1, Math.ceil(extent * 10) / 10);
  const x = (v: number) => LABEL + ((v + span) / (2 * span)) * PLOT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="Paired gap to baseline per perturbation">`,
    `<title>${escapeXml(report.meta.matrix ? `Model × scaffold matrix: pass-rate gap to ${report.baseline.id} per cell` : `Robustness of ${report.meta.model}: pass-rate gap to baseline per perturbation`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" font-weight="600">${escapeXml(`Gap to ${report.meta.matrix ? report.baseline.id : 'baseline'} (${percent(report.baseline.passRate?.mean)} pass rate), ${Math.round(report.meta.confidence * 100)}% intervals`)}</text>`,
  ];
  for (const tick of [-span, -span / 2, 0, span / 2, span]) {
    const tx = x(tick).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${top - 10}" x2="${tx}" y2="${top + arms.length * ROW}" stroke="${tick === 0 ? '#333' : '#ddd'}"/>`);
    parts.push(`<text x="${tx}" y="${top + arms.length * ROW + 16}" text-anchor="middle" fill="#555">${tick > 0 ? '+' : ''}${Math.round(tick * 100)}</text>`);
  }
  parts.push(`<text x="${(LABEL + PLOT / 2).toFixed(1)}" y="${height - 4}" text-anchor="middle" fill="#555">percentage points (arm − baseline)</text>`);
  arms.forEach((arm, i) => {
    const cy = top + i * ROW + ROW / 2;
    const colour = arm.verdict === 'hurts' ? '#c0392b' : arm.verdict === 'helps' ? '#1e8449' : '#7f8c8d';
    const label = `${arm.id}${arm.split === 'held-out' ? ' (held out)' : ''}`;
    parts.push(`<text x="8" y="${cy + 4}" fill="#222">${escapeXml(label.length > 52 ? `${label.slice(0, 51)}…` : label)}</text>`);
    if (arm.gap) {
      const clamp = (v: number) => Math.max(-span, Math.min(span, v));
      // A zero-width interval is no interval: the point is drawn hollow, with no bar.
      if (!arm.gap.degenerate) parts.push(`<line x1="${x(clamp(arm.gap.ci[0])).toFixed(1)}" y1="${cy}" x2="${x(clamp(arm.gap.ci[1])).toFixed(1)}" y2="${cy}" stroke="${colour}" stroke-width="2"/>`);
      parts.push(`<circle cx="${x(clamp(arm.gap.mean)).toFixed(1)}" cy="${cy}" r="4.5" ${arm.gap.degenerate ? `fill="#fff" stroke="${colour}" stroke-width="2"` : `fill="${colour}"`}/>`);
    }
    const note = arm.gap ? `${points(arm.gap).split(' [')[0]}${arm.gap.degenerate ? ` (no interval${NO_INTERVAL})` : ''} · p ${pValue(arm.pAdjusted)}` : 'no pairs';
    parts.push(`<text x="${LABEL + PLOT + 10}" y="${cy + 4}" fill="${colour}">${escapeXml(note)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderRobustnessHtml(report: RobustnessReport): string {
  const row = (cells: readonly string[], tag = 'td') => `<tr>${cells.map((c) => `<${tag}>${escapeXml(c)}</${tag}>`).join('')}</tr>`;
  const general = generalisationLines(report);
  const worst = worstLines(report);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Gauntlet robustness report</title>',
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f4f4f4}</style>',
    '</head><body>',
    '<h1>Gauntlet robustness report</h1>',
    `<p>${escapeXml(headline(report))}</p>`,
    renderRobustnessSvg(report),
    `<table>${row([...COLUMNS], 'th')}${row(armCells(report.baseline))}${report.arms.map((a) => row(armCells(a))).join('')}</table>`,
    `<ul>${NOTES.map((n) => `<li>${escapeXml(n)}</li>`).join('')}</ul>`,
    general.length > 0 ? `<h2>Generalisation</h2><ul>${general.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>` : '',
    worst.length > 0 ? `<h2>Worst tasks per arm</h2><ul>${worst.map((l) => `<li>${escapeXml(l)}</li>`).join('')}</ul>` : '',
    report.warnings.length > 0 ? `<h2>Warnings</h2><ul>${report.warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : '',
    `<p><small>gauntlet ${escapeXml(report.meta.gauntletVersion)}, ${escapeXml(report.meta.createdAt)}</small></p>`,
    '</body></html>',
  ].join('\n');
}
