import type Database from 'better-sqlite3';
import type { JsonValue } from '../../core/index.ts';
import { mergeRowProperties } from './properties.ts';
import { requireDatabase, type BlockType, type PropertyType } from './schema.ts';

/** Low-level writers shared by the seed, task fixtures, tools and world events. */

export interface NewBlock {
  id: string;
  type: BlockType;
  text: string;
  checked?: boolean | null;
}

export interface PageInsert {
  id: string;
  parentId: string | null;
  kind?: 'page' | 'database' | 'row';
  title: string;
  at: string;
  by: string;
  archived?: boolean;
  properties?: Record<string, JsonValue>;
}

export function insertPage(db: Database.Database, page: PageInsert): void {
  db.prepare(
    `INSERT INTO pages (id, parent_id, kind, title, properties, archived, created_at, created_by, updated_at, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(page.id, page.parentId, page.kind ?? 'page', page.title, JSON.stringify(page.properties ?? {}), page.archived ? 1 : 0, page.at, page.by, page.at, page.by);
}

/** Appends blocks after `afterPosition` (or at the end), spacing them between it and the next block. */
export function insertBlocks(db: Database.Database, pageId: string, blocks: NewBlock[], options: { at: string; by: string; afterPosition?: number }): void {
  const { at, by } = options;
  let start: number;
  let end: number;
  if (options.afterPosition === undefined) {
    const max = db.prepare('SELECT MAX(position) AS p FROM blocks WHERE page_id = ?').get(pageId) as { p: number | null };
    start = max.p ?? 0;
    end = start + blocks.length + 1;
  } else {
    start = options.afterPosition;
    const next = db.prepare('SELECT MIN(position) AS p FROM blocks WHERE page_id = ? AND position > ?').get(pageId, start) as { p: number | null };
    end = next.p ?? start + blocks.length + 1;
  }
  const step = (end - start) / (blocks.length + 1);
  const insert = db.prepare('INSERT INTO blocks (id, page_id, position, type, text, checked, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  blocks.forEach((b, i) => {
    const checked = b.type === 'todo' ? (b.checked ? 1 : 0) : null;
    insert.run(b.id, pageId, start + step * (i + 1), b.type, b.text, checked, at, by);
  });
}

export interface DatabaseSchemaEntry {
  type: PropertyType;
  options?: string[];
}

export function insertDatabase(db: Database.Database, page: Omit<PageInsert, 'kind'>, schema: Record<string, DatabaseSchemaEntry>): void {
  insertPage(db, { ...page, kind: 'database' });
  const insert = db.prepare('INSERT INTO database_properties (id, database_id, name, type, options, position) VALUES (?, ?, ?, ?, ?, ?)');
  Object.entries(schema).forEach(([name, def], i) => insert.run(`${page.id}:${name}`, page.id, name, def.type, JSON.stringify(def.options ?? []), i));
}

/** Adds a row (a page under the database) after validating its values like `create_row` does. */
export function insertRow(db: Database.Database, row: Omit<PageInsert, 'kind' | 'properties' | 'parentId'> & { databaseId: string; values: Record<string, unknown> }): void {
  const database = requireDatabase(db, row.databaseId);
  const properties = mergeRowProperties(db, database, {}, row.values);
  insertPage(db, { id: row.id, parentId: row.databaseId, kind: 'row', title: row.title, at: row.at, by: row.by, archived: row.archived ?? false, properties });
}

export interface CommentInsert {
  id: string;
  pageId: string;
  blockId?: string | null;
  author: string;
  text: string;
  at: string;
  resolved?: boolean;
}

export function insertComment(db: Database.Database, c: CommentInsert): void {
  db.prepare('INSERT INTO comments (id, page_id, block_id, author, text, created_at, resolved, resolved_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    c.id,
    c.pageId,
    c.blockId ?? null,
    c.author,
    c.text,
    c.at,
    c.resolved ? 1 : 0,
    c.resolved ? c.author : null,
  );
}
