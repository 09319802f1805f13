// Reports (eval, compare, robustness) and configs are JSON of several shapes. They are shown as
// data: arrays of flat records as tables, objects as term lists, and every string as text.
import type { ReactNode } from 'react';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

function scalar(value: unknown): ReactNode {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(4);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

function flatRecords(value: unknown[]): string[] | null {
  if (value.length === 0 || !value.every((row) => isRecord(row) && Object.values(row).every(isScalar))) return null;
  const keys = new Set<string>();
  for (const row of value as Record<string, unknown>[]) for (const key of Object.keys(row)) keys.add(key);
  return keys.size <= 12 ? [...keys] : null;
}

export function JsonView({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (isScalar(value)) return scalar(value);
  if (Array.isArray(value)) {
    const keys = flatRecords(value);
    if (keys) {
      return (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>
                {keys.map((k) => (
                  <th key={k}>{k}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(value as Record<string, unknown>[]).map((row, i) => (
                <tr key={i}>
                  {keys.map((k) => (
                    <td key={k}>{scalar(row[k])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    }
    if (value.every(isScalar)) return value.map((v) => String(scalar(v))).join(', ') || <span className="muted">(none)</span>;
    return (
      <ol className="json-list">
        {value.map((item, i) => (
          <li key={i}>
            <JsonView value={item} depth={depth + 1} />
          </li>
        ))}
      </ol>
    );
  }
  if (isRecord(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return <span className="muted">(empty)</span>;
    return (
      <dl className={`json-object depth-${Math.min(depth, 3)}`}>
        {entries.map(([key, item]) => (
          <div key={key} className="json-entry">
            <dt>{key}</dt>
            <dd>
              {depth >= 4 && !isScalar(item) ? (
                <details>
                  <summary>{Array.isArray(item) ? `${item.length} items` : 'object'}</summary>
                  <pre>{JSON.stringify(item as Json, null, 2)}</pre>
                </details>
              ) : (
                <JsonView value={item} depth={depth + 1} />
              )}
            </dd>
          </div>
        ))}
      </dl>
    );
  }
  return String(value);
}
