// A self-contained SVG of the mismatch: |Δ logprob| by position and by inference probability, the
// distribution of |Δ|, and for the demo the hidden-state divergence by layer. Hand-written: a few
// bar charts need no chart library, and the file opens anywhere.
import type { LayerDivergence } from './demo.ts';
import { formatNumber } from './render-text.ts';
import type { Bucket, PrecisionStats } from './metrics.ts';

export interface SvgSeries {
  label: string;
  stats: PrecisionStats;
  /** Demo only: hidden-state divergence per checkpoint. */
  layers?: LayerDivergence[];
}

interface Panel {
  title: string;
  yLabel: string;
  categories: string[];
  values: (number | null)[][];
}

const COLORS = ['#c8553d', '#2a7f9e', '#6a994e', '#8e6c8a'];
const WIDTH = 980;
const PANEL = { width: 470, height: 300, margin: { top: 34, right: 14, bottom: 62, left: 62 } };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2 or 5 × 10^k, the tick step that gives about four ticks up to `max`. */
function tickStep(max: number): number {
  const raw = max / 4;
  const scale = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) if (step * scale >= raw) return step * scale;
  return 10 * scale;
}

/** Tick and edge labels: as few digits as the value needs (0.04, 2e-3, 1e-5). */
function shortNumber(x: number): string {
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (abs >= 0.01 && abs < 1e5) return String(Number(x.toPrecision(4)));
  const mantissa = Number((x / 10 ** Math.floor(Math.log10(abs))).toFixed(6));
  return x.toExponential(Number.isInteger(mantissa) ? 0 : 1).replace('e+', 'e');
}

function positionLabel(b: Bucket): string {
  return b.to - b.from === 1 ? String(b.from) : `${b.from}–${b.to - 1}`;
}

function probabilityLabel(b: Bucket): string {
  return b.to === 1 ? `[${b.from},1]` : `[${b.from},${b.to})`;
}

function layerLabel(name: string): string {
  return name.replace(/^layer (\d+) attention$/, '$1 attn').replace(/^layer (\d+) MLP$/, '$1 mlp').replace(/^logits.*/, 'logits').replace('embedding', 'emb').replace('final norm', 'norm');
}

function renderPanel(panel: Panel, options: { x: number; y: number; labels: string[] }): string {
  const { margin } = PANEL;
  const plotW = PANEL.width - margin.left - margin.right;
  const plotH = PANEL.height - margin.top - margin.bottom;
  const x0 = options.x + margin.left;
  const y0 = options.y + margin.top;
  const max = Math.max(0, ...panel.values.flat().map((v) => v ?? 0));
  const step = max > 0 ? tickStep(max) : 1;
  const top = max > 0 ? Math.ceil(max / step) * step : 1;
  const parts: string[] = [`<g class="panel">`, `<text x="${options.x + PANEL.width / 2}" y="${options.y + 20}" class="title">${escapeXml(panel.title)}</text>`];
  for (let tick = 0; tick <= top + step / 2; tick += step) {
    const y = y0 + plotH - (tick / top) * plotH;
    parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${x0 - 6}" y="${(y + 4).toFixed(1)}" class="tick" text-anchor="end">${escapeXml(shortNumber(tick))}</text>`);
  }
  const groupW = plotW / Math.max(1, panel.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, panel.values.length);
  panel.categories.forEach((category, c) => {
    const gx = x0 + c * groupW;
    panel.values.forEach((series, s) => {
      const value = series[c];
      if (value === null || value === undefined) return;
      const h = (value / top) * plotH;
      const label = `${options.labels[s] ?? ''} ${category}: ${formatNumber(value)}`.trim();
      parts.push(
        `<rect x="${(gx + groupW * 0.1 + s * barW).toFixed(1)}" y="${(y0 + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[s % COLORS.length]}"><title>${escapeXml(label)}</title></rect>`,
      );
    });
    const lx = gx + groupW / 2;
    const ly = y0 + plotH + 12;
    parts.push(`<text x="${lx.toFixed(1)}" y="${ly}" class="tick" text-anchor="end" transform="rotate(-35 ${lx.toFixed(1)} ${ly})">${escapeXml(category)}</text>`);
  });
  parts.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y0 + plotH}" y2="${y0 + plotH}" class="axis"/>`);
  parts.push(`<text x="${options.x + 14}" y="${y0 + plotH / 2}" class="tick" text-anchor="middle" transform="rotate(-90 ${options.x + 14} ${y0 + plotH / 2})">${escapeXml(panel.yLabel)}</text>`);
  parts.push('</g>');
  return parts.join('\n');
}

function panels(series: SvgSeries[]): Panel[] {
  const first = series[0]?.stats;
  if (!first) return [];
  // Series of one report set share bucket edges; the longest position axis labels them all.
  const positions = series.reduce((longest, s) => (s.stats.byPosition.length > longest.length ? s.stats.byPosition : longest), first.byPosition);
  const byFrom = (buckets: Bucket[]) => new Map(buckets.map((b) => [b.from, b.meanAbsDelta]));
  const out: Panel[] = [
    {
      title: 'mean |Δ logprob| by position',
      yLabel: 'mean |Δ logprob|',
      categories: positions.map(positionLabel),
      values: series.map((s) => positions.map((b) => byFrom(s.stats.byPosition).get(b.from) ?? null)),
    },
    {
      title: 'mean |Δ logprob| by inference probability',
      yLabel: 'mean |Δ logprob|',
      categories: first.byProbability.map(probabilityLabel),
      values: series.map((s) => s.stats.byProbability.map((b) => b.meanAbsDelta)),
    },
    {
      title: 'share of tokens by |Δ logprob|',
      yLabel: 'share of compared tokens',
      categories: ['identical', ...first.histogram.bins.map((b, i) => (i === 0 ? `<${shortNumber(b.to)}` : i === first.histogram.bins.length - 1 ? `≥${shortNumber(b.from)}` : `${shortNumber(b.from)}–${shortNumber(b.to)}`))],
      values: series.map((s) => [s.stats.histogram.exact, ...s.stats.histogram.bins.map((b) => b.count)].map((count) => (s.stats.tokens > 0 ? count / s.stats.tokens : null))),
    },
  ];
  const withLayers = series.filter((s) => s.layers);
  const layers = withLayers[0]?.layers;
  if (layers) {
    out.push({
      title: 'engine vs trainer hidden states: relative L2 after each block',
      yLabel: 'relative L2',
      categories: layers.map((l) => layerLabel(l.name)),
      values: withLayers.map((s) => (s.layers ?? []).map((l) => l.relativeL2)),
    });
  }
  return out;
}

/** One SVG document with a panel per view and a legend naming each series. */
export function renderPrecisionSvg(options: { title: string; series: SvgSeries[] }): string {
  const list = panels(options.series);
  const rows = Math.ceil(list.length / 2);
  const legendH = 28;
  const height = 44 + legendH + rows * PANEL.height;
  const labels = options.series.map((s) => s.label);
  const body = list.map((panel, i) => renderPanel(panel, { x: 10 + (i % 2) * (PANEL.width + 20), y: 44 + legendH + Math.floor(i / 2) * PANEL.height, labels }));
  const legend = labels.map((label, i) => {
    const x = 20 + i * 220;
    return `<rect x="${x}" y="50" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 18}" y="60" class="legend">${escapeXml(label)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<title>${escapeXml(options.title)}</title>`,
    '<style>.title{font-size:13px;font-weight:600;text-anchor:middle;fill:#222}.tick{font-size:10px;fill:#555}.legend{font-size:12px;fill:#222}.grid{stroke:#e4e4e4}.axis{stroke:#888}</style>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="20" y="28" font-size="16" font-weight="600" fill="#111">${escapeXml(options.title)}</text>`,
    ...legend,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
