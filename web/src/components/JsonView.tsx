// Reports (eval, compare, robustness) and configs are JSON of several shapes. They are shown as
// data: arrays of flat records as tables, objects as term lists, and every string as text with its
// hidden characters marked (task ids and model names in them are whatever a task or model wrote).
// A report over thousands of tasks must not lay out thousands of rows at once: long arrays and
// objects show their first entries and a button for more.
import { useState, type ReactNode } from 'react';
import { Visible } from './Hidden.tsx';
import { TextBlock } from './TextBlock.tsx';

/** Rows, items or entries shown at first, and how many more each click adds. */
export const JSON_ENTRIES_SHOWN = 100;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

function scalar(value: unknown): ReactNode {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString() : value.toFixed(4);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return <Visible text={String(value)} />;
}

/** A row's own field: a row without `toString` must show a gap, not Object.prototype's function. */
const field = (row: Record<string, unknown>, key: string): unknown => (Object.hasOwn(row, key) ? row[key] : undefined);

function flatRecords(value: unknown[]): string[] | null {
  if (value.length === 0 || !value.every((row) => isRecord(row) && Object.values(row).every(isScalar))) return null;
  const keys = new Set<string>();
  for (const row of value as Record<string, unknown>[]) for (const key of Object.keys(row)) keys.add(key);
  return keys.size <= 12 ? [...keys] : null;
}

/** The first `shown` of `count` entries are laid out; the button lays out more. */
function useShown(): [number, () => void] {
  const [shown, setShown] = useState(JSON_ENTRIES_SHOWN);
  return [shown, () => setShown((n) => n + JSON_ENTRIES_SHOWN)];
}

function MoreEntries({ count, shown, what, onMore }: { count: number; shown: number; what: string; onMore: () => void }) {
  if (count <= shown) return null;
  return (
    <button type="button" className="link-button more-items" onClick={onMore}>
      Show {Math.min(JSON_ENTRIES_SHOWN, count - shown).toLocaleString()} more {what} ({(count - shown).toLocaleString()} not shown)
    </button>
  );
}

function RecordTable({ rows, keys }: { rows: Record<string, unknown>[]; keys: string[] }) {
  const [shown, more] = useShown();
  return (
    <div className="table-scroll">
      <table className="data-table">
        <thead>
          <tr>
            {keys.map((k) => (
              <th key={k}>
                <Visible text={k} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, shown).map((row, i) => (
            <tr key={i}>
              {keys.map((k) => (
                <td key={k}>{scalar(field(row, k))}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <MoreEntries count={rows.length} shown={shown} what="rows" onMore={more} />
    </div>
  );
}

function ScalarList({ items }: { items: unknown[] }) {
  const [shown, more] = useShown();
  return (
    <>
      {items.slice(0, shown).map((v, i) => (
        <span key={i}>
          {i > 0 ? ', ' : ''}
          {scalar(v)}
        </span>
      ))}
      <MoreEntries count={items.length} shown={shown} what="items" onMore={more} />
    </>
  );
}

function ItemList({ items, depth }: { items: unknown[]; depth: number }) {
  const [shown, more] = useShown();
  return (
    <>
      <ol className="json-list">
        {items.slice(0, shown).map((item, i) => (
          <li key={i}>
            <JsonView value={item} depth={depth + 1} />
          </li>
        ))}
      </ol>
      <MoreEntries count={items.length} shown={shown} what="items" onMore={more} />
    </>
  );
}

function EntryList({ entries, depth }: { entries: [string, unknown][]; depth: number }) {
  const [shown, more] = useShown();
  return (
    <>
      <dl className={`json-object depth-${Math.min(depth, 3)}`}>
        {entries.slice(0, shown).map(([key, item]) => (
          <div key={key} className="json-entry">
            <dt>
              <Visible text={key} />
            </dt>
            <dd>
              {depth >= 4 && !isScalar(item) ? (
                <details>
                  <summary>{Array.isArray(item) ? `${item.length} items` : 'object'}</summary>
                  {/* Cut like any long text: a deep branch can be megabytes of JSON. */}
                  <TextBlock text={JSON.stringify(item, null, 2)} label={`${key} as JSON`} />
                </details>
              ) : (
                <JsonView value={item} depth={depth + 1} />
              )}
            </dd>
          </div>
        ))}
      </dl>
      <MoreEntries count={entries.length} shown={shown} what="entries" onMore={more} />
    </>
  );
}

export function JsonView({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (isScalar(value)) return scalar(value);
  if (Array.isArray(value)) {
    const keys = flatRecords(value);
    if (keys) return <RecordTable rows={value as Record<string, unknown>[]} keys={keys} />;
    if (value.length === 0) return <span className="muted">(none)</span>;
    if (value.every(isScalar)) return <ScalarList items={value} />;
    return <ItemList items={value} depth={depth} />;
  }
  if (isRecord(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return <span className="muted">(empty)</span>;
    return <EntryList entries={entries} depth={depth} />;
  }
  return String(value);
}
