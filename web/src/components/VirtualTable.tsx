// A table that renders only the rows in view (fixed row height), and asks for the next page
// when the reader nears the end of what has been fetched.
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef, type ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: string;
  /** CSS grid track, e.g. '8rem' or 'minmax(10rem, 2fr)'. */
  width: string;
  cell: (row: T) => ReactNode;
  align?: 'left' | 'right';
}

export interface VirtualTableProps<T> {
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  rowHeight?: number;
  /** Height of the scrolling area (CSS). */
  height?: string;
  hasMore?: boolean;
  loading?: boolean;
  onEndReached?: () => void;
  /** Row under keyboard focus (j/k); kept in view. */
  activeIndex?: number;
  testId?: string;
  empty?: ReactNode;
}

const PREFETCH_ROWS = 50;

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const { rows, columns, rowHeight = 34, hasMore = false, onEndReached, activeIndex } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const template = columns.map((c) => c.width).join(' ');
  const count = rows.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({ count, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && onEndReached && lastIndex >= rows.length - PREFETCH_ROWS) onEndReached();
  }, [lastIndex, rows.length, hasMore, onEndReached]);

  useEffect(() => {
    if (activeIndex !== undefined && activeIndex >= 0) virtualizer.scrollToIndex(activeIndex, { align: 'auto' });
  }, [activeIndex, virtualizer]);

  return (
    <div className="vtable" role="table" aria-label={props.label} aria-rowcount={hasMore ? -1 : rows.length + 1} data-testid={props.testId}>
      <div className="vtable-head" role="row" style={{ gridTemplateColumns: template }}>
        {columns.map((c) => (
          <div key={c.key} role="columnheader" className={c.align === 'right' ? 'num' : undefined}>
            {c.header}
          </div>
        ))}
      </div>
      <div ref={scrollRef} className="vtable-body" style={{ height: props.height ?? '60vh' }} data-testid={props.testId ? `${props.testId}-scroll` : undefined}>
        {rows.length === 0 && !hasMore && !props.loading ? <div className="vtable-empty">{props.empty ?? 'Nothing matches.'}</div> : null}
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rows[item.index];
            const style = { transform: `translateY(${item.start}px)`, height: rowHeight, gridTemplateColumns: template };
            if (row === undefined) {
              return (
                <div key="more" className="vtable-row loading-row" role="row" style={style}>
                  <div role="cell">Loading more…</div>
                </div>
              );
            }
            return <Row key={props.rowKey(row)} row={row} columns={columns} template={template} start={item.start} height={rowHeight} index={item.index} active={item.index === activeIndex} />;
          })}
        </div>
      </div>
    </div>
  );
}

interface RowProps<T> {
  row: T;
  columns: readonly Column<T>[];
  template: string;
  start: number;
  height: number;
  index: number;
  active: boolean;
}

// Scrolling re-renders the table on every frame; a row whose data and place are unchanged is
// not rebuilt, so each frame only builds the rows that scrolled into view.
function RowImpl<T>({ row, columns, template, start, height, index, active }: RowProps<T>) {
  return (
    <div
      className={`vtable-row${active ? ' active' : ''}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={active}
      style={{ transform: `translateY(${start}px)`, height, gridTemplateColumns: template }}
    >
      {columns.map((c) => (
        <div key={c.key} role="cell" className={c.align === 'right' ? 'num' : undefined}>
          {c.cell(row)}
        </div>
      ))}
    </div>
  );
}

const Row = memo(RowImpl) as typeof RowImpl;
