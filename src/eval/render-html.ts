// One self-contained HTML file: inline CSS and inline SVG only, no scripts and nothing fetched,
// so a report can be mailed, archived or opened offline and looks the same in ten years.
import { percent } from './format.ts';
import { CHECKS_HEADING, checkTable, EXACT_NOTE, groupRows, PASS_RATE_NOTE, REPORT_COLUMNS, reportHeadline, reportRow, shownInterval, showsExact } from './render-text.ts';
import type { EvalReport, ModelReport } from './schema.ts';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const colour = (i: number): string => PALETTE[i % PALETTE.length] as string;
const num = (x: number): string => (Math.round(x * 10) / 10).toString();

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Y axis from 0 to 100% with grid lines; returns the SVG pieces and the value → y mapping. */
function yAxis(frame: Frame): { svg: string; y: (v: number) => number } {
  const plotHeight = frame.height - frame.top - frame.bottom;
  const y = (v: number) => frame.top + plotHeight * (1 - Math.min(1, Math.max(0, v)));
  const parts: string[] = [];
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${num(y(tick))}" y2="${num(y(tick))}" class="grid"/>`);
    parts.push(`<text x="${frame.left - 6}" y="${num(y(tick) + 4)}" text-anchor="end">${tick * 100}%</text>`);
  }
  return { svg: parts.join(''), y };
}

function legend(models: readonly ModelReport[], x: number): string {
  return models
    .map((m, i) => `<rect x="${x}" y="${8 + i * 16}" width="10" height="10" fill="${colour(i)}"/><text x="${x + 14}" y="${17 + i * 16}">${escapeHtml(m.model)}</text>`)
    .join('');
}

/** Grouped bars of pass rate per domain (one bar per model) with CI whiskers: bootstrap, or exact where the bootstrap's has zero width. */
export function passRateChart(report: EvalReport): string {
  const groups = report.models[0] ? groupRows(report.models[0]).map(([g]) => g) : [];
  const models = report.models;
  const frame: Frame = { width: Math.max(480, 90 + groups.length * Math.max(60, models.length * 22 + 20)), height: 300 + models.length * 16, left: 48, right: 16, top: 16 + models.length * 16, bottom: 40 };
  const { svg: axis, y } = yAxis(frame);
  const slot = (frame.width - frame.left - frame.right) / Math.max(1, groups.length);
  const barWidth = Math.min(28, (slot - 16) / Math.max(1, models.length));
  const bars: string[] = [];
  groups.forEach((group, g) => {
    const x0 = frame.left + g * slot + (slot - barWidth * models.length) / 2;
    models.forEach((model, m) => {
      const stats = group === 'overall' ? model.overall : model.domains[group];
      const x = x0 + m * barWidth;
      const rate = stats?.passRate;
      const shown = rate ? shownInterval(rate) : null;
      if (!rate || !shown) {
        bars.push(`<text x="${num(x + barWidth / 2)}" y="${num(y(0) - 4)}" text-anchor="middle" class="muted">n/a</text>`);
        return;
      }
      const [low, high] = shown.ci;
      const kind = shown.exact ? ' exact (bootstrap interval had zero width)' : '';
      const label = `${model.model} · ${group}: ${percent(rate.mean)} [${percent(low)}, ${percent(high)}]${kind}, n=${stats.n}`;
      const cx = num(x + barWidth / 2);
      const whisker = shown.exact ? 'whisker exact' : 'whisker';
      bars.push(
        `<g><title>${escapeHtml(label)}</title><rect x="${num(x + 1)}" y="${num(y(rate.mean))}" width="${num(barWidth - 2)}" height="${num(y(0) - y(rate.mean))}" fill="${colour(m)}"/>` +
          `<line x1="${cx}" x2="${cx}" y1="${num(y(low))}" y2="${num(y(high))}" class="${whisker}"/>` +
          `<line x1="${num(x + barWidth / 2 - 4)}" x2="${num(x + barWidth / 2 + 4)}" y1="${num(y(low))}" y2="${num(y(low))}" class="${whisker}"/>` +
          `<line x1="${num(x + barWidth / 2 - 4)}" x2="${num(x + barWidth / 2 + 4)}" y1="${num(y(high))}" y2="${num(y(high))}" class="${whisker}"/></g>`,
      );
    });
    bars.push(`<text x="${num(frame.left + g * slot + slot / 2)}" y="${frame.height - frame.bottom + 18}" text-anchor="middle">${escapeHtml(group)}</text>`);
  });
  return `<svg role="img" aria-label="pass rate by domain" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}">${axis}${bars.join('')}${legend(models, frame.left)}</svg>`;
}

/** One line per model of pass@k or pass^k (overall) against k. */
export function passKChart(report: EvalReport, which: 'passAtK' | 'passHatK'): string {
  const models = report.models;
  const maxK = Math.max(1, ...models.map((m) => Object.keys(m.overall[which]).length));
  const frame: Frame = { width: 480, height: 280 + models.length * 16, left: 48, right: 24, top: 16 + models.length * 16, bottom: 40 };
  const { svg: axis, y } = yAxis(frame);
  const plotWidth = frame.width - frame.left - frame.right;
  const x = (k: number) => frame.left + (maxK === 1 ? plotWidth / 2 : ((k - 1) / (maxK - 1)) * plotWidth);
  const parts: string[] = [axis];
  for (let k = 1; k <= maxK; k++) parts.push(`<text x="${num(x(k))}" y="${frame.height - frame.bottom + 18}" text-anchor="middle">${k}</text>`);
  parts.push(`<text x="${num(frame.left + plotWidth / 2)}" y="${frame.height - 4}" text-anchor="middle" class="muted">k</text>`);
  models.forEach((model, m) => {
    const points = Object.entries(model.overall[which]).map(([k, v]) => [x(Number(k)), y(v), Number(k), v] as const);
    if (points.length > 1) parts.push(`<polyline fill="none" stroke="${colour(m)}" stroke-width="2" points="${points.map(([px, py]) => `${num(px)},${num(py)}`).join(' ')}"/>`);
    for (const [px, py, k, v] of points) {
      const name = which === 'passAtK' ? `pass@${k}` : `pass^${k}`;
      parts.push(`<circle cx="${num(px)}" cy="${num(py)}" r="3.5" fill="${colour(m)}"><title>${escapeHtml(`${model.model} ${name} = ${percent(v)}`)}</title></circle>`);
    }
  });
  parts.push(legend(models, frame.left));
  const label = which === 'passAtK' ? 'pass@k by k' : 'pass^k by k';
  return `<svg role="img" aria-label="${label}" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}">${parts.join('')}</svg>`;
}

function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#111827}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e7eb;text-align:right;white-space:nowrap}th:first-child,td:first-child{text-align:left}
svg{font:11px system-ui,sans-serif;display:block;margin:1rem 0}svg text{fill:#374151}.grid{stroke:#e5e7eb}.whisker{stroke:#111827;stroke-width:1.5}.exact{stroke-dasharray:3 2}
.muted{fill:#9ca3af;color:#6b7280}.warn{color:#92400e;background:#fffbeb;padding:.1rem .4rem}.note{color:#374151;font-size:.9em}.charts{display:flex;flex-wrap:wrap;gap:1rem}code{font-size:.9em}`;

/** A single self-contained HTML page for a report. */
export function renderHtml(report: EvalReport): string {
  const body: string[] = [`<h1>Gauntlet evaluation</h1>`, `<p class="muted">${escapeHtml(reportHeadline(report))}<br>${escapeHtml(PASS_RATE_NOTE)}</p>`];
  body.push('<h2>Pass rate by domain</h2>', passRateChart(report));
  body.push('<div class="charts"><div><h2>pass@k</h2>', passKChart(report, 'passAtK'), '</div><div><h2>pass^k</h2>', passKChart(report, 'passHatK'), '</div></div>');
  for (const model of report.models) {
    body.push(`<h2>${escapeHtml(model.model)} <code>${escapeHtml(model.runId)}</code></h2>`, htmlTable(REPORT_COLUMNS, groupRows(model).map(([g, s]) => reportRow(g, s))));
    if (showsExact(model)) body.push(`<p class="note">${escapeHtml(EXACT_NOTE)}</p>`);
    const checks = checkTable(model);
    if (checks.rows.length > 0) body.push(`<p>${escapeHtml(CHECKS_HEADING)}</p>`, htmlTable(checks.headers, checks.rows));
    if (model.overall.flakyTasks.length > 0) body.push(`<p>Flaky tasks: ${model.overall.flakyTasks.map((t) => `<code>${escapeHtml(t)}</code>`).join(', ')}</p>`);
    body.push(...model.warnings.map((w) => `<p class="warn">${escapeHtml(w)}</p>`));
  }
  if (report.excludedTasks.length > 0) {
    body.push('<h2>Excluded tasks</h2><p>Golden solution failed validation; never scored.</p>', htmlTable(['task', 'reason'], report.excludedTasks.map((t) => [t.id, t.reason])));
  }
  const d = report.discrimination;
  body.push('<h2>Task discrimination</h2>', `<p>Tasks every model passes: ${d.allModelsPass.length}. Tasks no model passes: ${d.noModelPasses.length}.</p>`);
  const hardest = [...d.tasks].sort((a, b) => b.difficultyEstimate - a.difficultyEstimate).slice(0, 10);
  if (hardest.length > 0) body.push(htmlTable(['hardest tasks', 'domain', 'tagged', 'difficulty estimate', 'n'], hardest.map((t) => [t.id, t.domain, t.taggedDifficulty, t.difficultyEstimate.toFixed(2), String(t.n)])));
  body.push(...report.warnings.map((w) => `<p class="warn">${escapeHtml(w)}</p>`));
  const meta = report.meta;
  body.push(`<p class="muted">gauntlet ${escapeHtml(meta.gauntletVersion)}${meta.createdAt ? ` · ${escapeHtml(meta.createdAt)}` : ''} · seeds ${escapeHtml(JSON.stringify(meta.seeds))}</p>`);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Gauntlet evaluation</title><style>${CSS}</style></head><body>${body.join('\n')}</body></html>\n`;
}
