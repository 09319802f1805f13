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

/** Horizontal bars of rates in [0, 1] (pass rate per task, per perturbation, flag rates). */
export function RateBars({ items, title }: { items: readonly RateItem[]; title: string }) {
  const x = linear([0, 1], [LABEL, W - RIGHT]);
  const height = Math.max(ROW, items.length * ROW) + 4;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-scroll">
        <svg viewBox={`0 0 ${W} ${height}`} style={{ height }} role="img" aria-label={`${title}: ${items.map((i) => `${i.label} ${i.rate === null ? 'not scored' : `${Math.round(i.rate * 100)}%`}`).join('; ')}`}>
          {items.map((item, i) => {
            const top = i * ROW + 2;
            const label = item.label.length > 24 ? `${item.label.slice(0, 23)}…` : item.label;
            return (
              <g key={item.label}>
                <text x={LABEL - 6} y={top + ROW / 2} dy="0.32em" textAnchor="end" className="tick">
                  {label}
                  <title>{item.label}</title>
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
    </figure>
  );
}
