import { formatTick, linear, ticks } from './scale.ts';

export interface Bin {
  from: number;
  to: number;
  count: number;
}

const W = 420;
const H = 180;
const M = { top: 10, right: 10, bottom: 34, left: 42 };

/** Score distribution: one bar per bin, counts on the y axis. */
export function Histogram({ bins, title, xLabel }: { bins: readonly Bin[]; title: string; xLabel: string }) {
  const total = bins.reduce((sum, b) => sum + b.count, 0);
  const max = Math.max(1, ...bins.map((b) => b.count));
  const lo = bins.length ? Math.min(...bins.map((b) => b.from)) : 0;
  const hi = bins.length ? Math.max(...bins.map((b) => b.to)) : 1;
  const x = linear([lo, hi], [M.left, W - M.right]);
  const y = linear([0, max], [H - M.bottom, M.top]);
  const summary = bins.map((b) => `${formatTick(b.from)}–${formatTick(b.to)}: ${b.count}`).join('; ');
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}. ${total} scored rollouts. ${summary}`}>
        {ticks(0, max, 4).map((t) => (
          <g key={`y${t}`}>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 6} y={y(t)} dy="0.32em" textAnchor="end" className="tick">
              {formatTick(t)}
            </text>
          </g>
        ))}
        {bins.map((b) => (
          <rect key={`${b.from}-${b.to}`} x={x(b.from) + 1} width={Math.max(1, x(b.to) - x(b.from) - 2)} y={y(b.count)} height={H - M.bottom - y(b.count)} className="bar">
            <title>{`${formatTick(b.from)}–${formatTick(b.to)}: ${b.count}`}</title>
          </rect>
        ))}
        {ticks(lo, hi, 5).map((t) => (
          <text key={`x${t}`} x={x(t)} y={H - M.bottom + 14} textAnchor="middle" className="tick">
            {formatTick(t)}
          </text>
        ))}
        <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle" className="axis-label">
          {xLabel}
        </text>
      </svg>
    </figure>
  );
}
