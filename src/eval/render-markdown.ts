import type { Comparison } from './compare.ts';
import { percent, printable } from './format.ts';
import {
  CHECKS_HEADING,
  checkTable,
  COMPARISON_COLUMNS,
  comparisonHasDegenerate,
  comparisonMethod,
  comparisonRows,
  DEGENERATE_DIFFERENCE_NOTE,
  EXACT_NOTE,
  groupRows,
  largestGaps,
  PASS_RATE_NOTE,
  REPORT_COLUMNS,
  reportHeadline,
  reportRow,
  showsExact,
} from './render-text.ts';
import type { EvalReport } from './schema.ts';

/**
 * Data as inline Markdown text: names, ids and messages come from task files, model specs and
 * stored runs, so nothing in them may open raw HTML (`<script>`, `<!--` hides the rest of the
 * page), a link (`](`), a code span or emphasis, end a table cell (`|`) or start a new line.
 */
export function markdownText(text: string): string {
  return printable(text.replace(/\r\n|\r|\n/g, ' '))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_~|]/g, (ch) => `\\${ch}`)
    .replace(/\](?=[([:])/g, '\\]');
}

/** Data as a code span: fenced with more backticks than it holds, on one line, so it cannot close early. */
export function markdownCode(text: string): string {
  const flat = printable(text.replace(/\r\n|\r|\n/g, ' '));
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || flat === '' ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

const cell = markdownText;

function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(headers), `|${headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Markdown for a report or a comparison, ready to paste into an issue or a PR. */
export function renderMarkdown(input: EvalReport | Comparison): string {
  return input.kind === 'gauntlet.comparison' ? comparisonMarkdown(input) : reportMarkdown(input);
}

function reportMarkdown(report: EvalReport): string {
  const out = ['# Gauntlet evaluation', '', reportHeadline(report), '', PASS_RATE_NOTE];
  for (const model of report.models) {
    out.push('', `## ${cell(model.model)} (${markdownCode(model.runId)})`, '', markdownTable(REPORT_COLUMNS, groupRows(model).map(([g, s]) => reportRow(g, s))));
    if (showsExact(model)) out.push('', EXACT_NOTE);
    const checks = checkTable(model);
    if (checks.rows.length > 0) out.push('', `${CHECKS_HEADING}:`, '', markdownTable(checks.headers, checks.rows));
    const ks = Object.keys(model.overall.passAtK);
    if (ks.length > 1) {
      out.push('', markdownTable(['k', ...ks], [['pass@k', ...ks.map((k) => percent(model.overall.passAtK[k]))], ['pass^k', ...ks.map((k) => percent(model.overall.passHatK[k]))]]));
    }
    if (model.overall.flakyTasks.length > 0) out.push('', `Flaky tasks: ${model.overall.flakyTasks.map(markdownCode).join(', ')}`);
    if (model.warnings.length > 0) out.push('', ...model.warnings.map((w) => `- ⚠ ${cell(w)}`));
  }
  if (report.excludedTasks.length > 0) {
    out.push('', '## Excluded tasks', '', 'Golden solution failed validation; never scored.', '', ...report.excludedTasks.map((t) => `- ${markdownCode(t.id)}: ${cell(t.reason)}`));
  }
  const d = report.discrimination;
  out.push('', '## Task discrimination', '', `Tasks every model passes: ${d.allModelsPass.length}. Tasks no model passes: ${d.noModelPasses.length}.`);
  const tags = Object.entries(d.byTaggedDifficulty);
  if (tags.length > 0) out.push('', markdownTable(['tagged difficulty', 'tasks', 'mean difficulty estimate'], tags.map(([tag, v]) => [tag, String(v.tasks), v.meanDifficultyEstimate.toFixed(2)])));
  if (report.warnings.length > 0) out.push('', '## Warnings', '', ...report.warnings.map((w) => `- ${cell(w)}`));
  out.push('', `<sub>gauntlet ${cell(report.meta.gauntletVersion)}${report.meta.createdAt ? `, ${cell(report.meta.createdAt)}` : ''}</sub>`);
  return out.join('\n');
}

function comparisonMarkdown(comparison: Comparison): string {
  const { a, b } = comparison;
  const out = [
    '# Gauntlet comparison',
    '',
    `A = **${cell(a.model)}** (${markdownCode(a.runId)}), B = **${cell(b.model)}** (${markdownCode(b.runId)})`,
    '',
    comparisonMethod(comparison),
    '',
    markdownTable(COMPARISON_COLUMNS, comparisonRows(comparison)),
  ];
  if (comparisonHasDegenerate(comparison)) out.push('', DEGENERATE_DIFFERENCE_NOTE);
  for (const side of ['A', 'B'] as const) {
    const gaps = largestGaps(comparison, side);
    if (gaps.length > 0) {
      out.push('', `### Tasks where ${side} trails most`, '', ...gaps.map((t) => `- ${markdownCode(t.id)} (${cell(t.domain)}): A ${percent(t.passRateA, 0)}, B ${percent(t.passRateB, 0)}`));
    }
  }
  if (comparison.warnings.length > 0) out.push('', ...comparison.warnings.map((w) => `- ⚠ ${cell(w)}`));
  return out.join('\n');
}
