import type { ReactNode } from 'react';

const statusText: Record<string, string> = {
  scored: 'scored',
  infra_error: 'infra error',
  error: 'defect',
  cancelled: 'cancelled',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{statusText[status] ?? status}</span>;
}

/** Pass/fail for scored rollouts; "not scored" for the rest, which never count either way. */
export function PassBadge({ passed }: { passed: boolean | null }) {
  if (passed === null) return <span className="badge muted">not scored</span>;
  return <span className={`badge ${passed ? 'pass' : 'fail'}`}>{passed ? 'pass' : 'fail'}</span>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span className={`badge severity-${severity}`}>{severity}</span>;
}

export function Stat({ label, value, hint }: { label: string; value: ReactNode; hint?: string }) {
  return (
    <div className="stat" title={hint}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`;
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

/** 1234567 → "1.2M": token counts run to millions. */
export function compact(n: number): string {
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}
