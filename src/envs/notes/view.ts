import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/index.ts';
import { ToolError } from '../define.ts';
import { rowValues } from './properties.ts';
import { findPage, type PageRow } from './schema.ts';

/** Opaque page tokens: the offset plus the tool they belong to, so a cursor from one tool is refused by another. */
export function encodeCursor(tool: string, offset: number): string {
  return Buffer.from(`${tool}:${offset}`).toString('base64url');
}

export function decodeCursor(tool: string, cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [name, offset] = text.split(':');
  const n = Number(offset);
  if (name !== tool || !Number.isInteger(n) || n < 0) throw new ToolError(`cursor "${cursor}" was not returned by ${tool}; pass next_cursor from the previous ${tool} result, or omit it for the first page`);
  return n;
}

/** The page or one of its ancestors is archived: it is hidden from search and cannot be edited. */
export function archivedAncestor(db: Database.Database, page: PageRow): PageRow | undefined {
  let current: PageRow | undefined = page;
  for (let depth = 0; current && depth < 50; depth++) {
    if (current.archived) return current;
    current = current.parent_id ? findPage(db, current.parent_id) : undefined;
  }
  return undefined;
}

export function isVisible(db: Database.Database, page: PageRow): boolean {
  return archivedAncestor(db, page) === undefined;
}

export function parentRef(db: Database.Database, page: PageRow): JsonValue {
  if (!page.parent_id) return null;
  const parent = findPage(db, page.parent_id);
  return parent ? { id: parent.id, title: parent.title } : { id: page.parent_id, title: '(missing)' };
}

export function rowView(page: PageRow): Record<string, JsonValue> {
  return { id: page.id, title: page.title, properties: rowValues(page), updated_at: page.updated_at };
}

/** Text around the first occurrence of `needle`, trimmed to about 120 characters. */
export function snippetOf(text: string, needle: string): string {
  const at = needle ? text.toLowerCase().indexOf(needle.toLowerCase()) : 0;
  const start = Math.max(0, at - 50);
  const end = Math.min(text.length, Math.max(at, 0) + needle.length + 70);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}
