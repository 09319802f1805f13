import { formatTick, linear, ticks } from './scale.ts';

export interface Series {
  name: string;
  /** One value per x position; null leaves a gap. */
  values: readonly (number | null)[];
}

const W = 460;
const H = 200;
const M = { top: 12, right: 12, bottom: 40, left: 48 };

/** Values across steps (policy versions or training steps), one line per series. */
export function LineChart({ title, xLabels, series, yLabel }: { title: string; xLabels: readonly string[]; series: readonly Series[]; yLabel: string }) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  if (all.length === 0) {
    return (
      <figure className="chart">
        <figcaption>{title}</figcaption>
        <p className="muted">No data at any step.</p>
      </figure>
    );
  }
  const lo = Math.min(0, ...all);
  const top = Math.max(...all);
  // A flat series (all zeros) still gets a readable axis.
  const hi = top - lo < 1e-9 ? lo + 1 : top;
  const x = linear([0, Math.max(1, xLabels.length - 1)], [M.left, W - M.right]);
  const y = linear([lo, hi], [H - M.bottom, M.top]);
  const every = Math.max(1, Math.ceil(xLabels.length / 8));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title} across ${xLabels.length} steps`}>
        {ticks(lo, hi, 4).map((t) => (
          <g key={`y${t}`}>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end" className="tick">
              {formatTick(t)}
            </text>
          </g>
        ))}
        {xLabels.map((label, i) =>
          i % every === 0 ? (
            <text key={`x${i}`} x={x(i)} y={H - M.bottom + 14} textAnchor={anchorOf(i, xLabels.length)} className="tick">
              {label.length > 10 ? `${label.slice(0, 9)}…` : label}
            </text>
          ) : null,
        )}
        <text x={12} y={(M.top + H - M.bottom) / 2} transform={`rotate(-90 12 ${(M.top + H - M.bottom) / 2})`} textAnchor="middle" className="axis-label">
          {yLabel}
        </text>
        {series.map((s, si) => (
          <g key={s.name} className={`series series-${si % 8}`}>
            <path d={pathOf(s.values, x, y)} fill="none" />
            {s.values.map((v, i) =>
              v === null ? null : (
                <circle key={i} cx={x(i)} cy={y(v)} r={3}>
                  <title>{`${s.name} at ${xLabels[i] ?? i}: ${formatTick(v)}`}</title>
                </circle>
              ),
            )}
          </g>
        ))}
      </svg>
      {series.length > 1 && (
        <ul className="legend">
          {series.map((s, si) => (
            <li key={s.name} className={`series-${si % 8}`}>
              {s.name}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

function pathOf(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}

/** End labels are anchored inwards so they are not cut at the chart's edges. */
function anchorOf(i: number, n: number): 'start' | 'middle' | 'end' {
  if (n > 1 && i === 0) return 'start';
  if (n > 1 && i === n - 1) return 'end';
  return 'middle';
}
