import { useState } from 'react';
import { visibleText } from '../components/Hidden.tsx';
import { linear } from './scale.ts';

export interface RateItem {
  label: string;
  /** In [0, 1]; null when nothing was scored. */
  rate: number | null;
  n: number;
}

const W = 420;
const ROW = 18;
const LABEL = 150;
const RIGHT = 70;
/** Characters of a label drawn beside its bar; the whole label is in its tooltip (up to TITLE_CHARS). */
const LABEL_CHARS = 24;
const TITLE_CHARS = 500;
/**
 * Bars drawn at first, and how many more each click adds: a model may call thousands of made-up
 * tool names, and a run may cover thousands of tasks; the worst (or most used) come first.
 */
const BARS_SHOWN = 50;
const BARS_PER_CLICK = 200;

/** The first `max` UTF-16 units of `text` and an ellipsis when cut, never ending on half a surrogate pair. */
function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * Horizontal bars of rates in [0, 1] (pass rate per task, per perturbation, tool use). Labels are
 * task ids and tool names a model chose, so their hidden characters are drawn as marks here too.
 */
export function RateBars({ items: all, title }: { items: readonly RateItem[]; title: string }) {
  const [limit, setLimit] = useState(BARS_SHOWN);
  const items = all.slice(0, limit);
  const hidden = all.length - items.length;
  const x = linear([0, 1], [LABEL, W - RIGHT]);
  const height = Math.max(ROW, items.length * ROW) + 4;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-scroll">
        <svg viewBox={`0 0 ${W} ${height}`} style={{ height }} role="img" aria-label={`${title}: ${items.map((i) => `${visibleText(clip(i.label, TITLE_CHARS))} ${i.rate === null ? 'not scored' : `${Math.round(i.rate * 100)}%`}`).join('; ')}${hidden > 0 ? `; and ${hidden.toLocaleString()} more` : ''}`}>
          {items.map((item, i) => {
            const top = i * ROW + 2;
            const label = visibleText(clip(item.label, LABEL_CHARS));
            return (
              <g key={item.label}>
                <text x={LABEL - 6} y={top + ROW / 2} dy="0.32em" textAnchor="end" className="tick">
                  {label}
                  <title>{visibleText(clip(item.label, TITLE_CHARS))}</title>
                </text>
                <rect x={LABEL} y={top + 2} width={x(1) - LABEL} height={ROW - 4} className="track" />
                {item.rate !== null && <rect x={LABEL} y={top + 2} width={Math.max(0, x(item.rate) - LABEL)} height={ROW - 4} className="bar" />}
                <text x={W - RIGHT + 6} y={top + ROW / 2} dy="0.32em" className="tick">
                  {item.rate === null ? '—' : `${(item.rate * 100).toFixed(0)}%`} n={item.n}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      {hidden > 0 && (
        <button type="button" className="link-button more-items" onClick={() => setLimit((n) => n + BARS_PER_CLICK)}>
          Show {Math.min(hidden, BARS_PER_CLICK).toLocaleString()} more ({hidden.toLocaleString()} not shown)
        </button>
      )}
    </figure>
  );
}
