import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ToolError } from '../define.ts';

/**
 * Tables of a Notion-like workspace. A database is a page with a schema; its rows are pages too
 * (kind 'row', parent = the database), so a row can hold blocks and comments like any page.
 * Block positions are REAL so inserting between two blocks never renumbers the rest.
 */
export const NOTES_SCHEMA = `
CREATE TABLE members (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE, team TEXT NOT NULL);
CREATE TABLE pages (
  id TEXT PRIMARY KEY,
  parent_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('page', 'database', 'row')),
  title TEXT NOT NULL,
  properties TEXT NOT NULL DEFAULT '{}',
  archived INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX pages_parent ON pages (parent_id);
CREATE TABLE blocks (
  id TEXT PRIMARY KEY,
  page_id TEXT NOT NULL,
  position REAL NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('paragraph', 'heading', 'todo', 'bullet', 'code')),
  text TEXT NOT NULL,
  checked INTEGER,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
CREATE INDEX blocks_page ON blocks (page_id, position);
CREATE TABLE database_properties (
  id TEXT PRIMARY KEY,
  database_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '[]',
  position INTEGER NOT NULL,
  UNIQUE (database_id, name)
);
CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  page_id TEXT NOT NULL,
  block_id TEXT,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at TEXT NOT NULL,
  resolved INTEGER NOT NULL DEFAULT 0,
  resolved_by TEXT
);
`;

/** The person the agent acts as: every change a tool makes is attributed to this member. */
export const ME = { id: 'u-robin', name: 'Robin Okafor', email: 'robin.okafor@larkspur.example', team: 'Product' } as const;

/** What every notes task tells the agent: who it works for and what day it is. */
export const NOTES_SYSTEM_PROMPT = [
  `You are the assistant of ${ME.name} (${ME.email}, ${ME.team}) at Larkspur, working in the team's notes workspace through the notes tools.`,
  'Today is Monday 16 March 2026. Pages, databases and rows have ids; search or list before you act, and read a page before changing it.',
  'Change, create, archive or comment on nothing the request does not ask for. Colleagues may be editing at the same time; keep their changes.',
  'When you are done, call submit (with an answer if the request asked a question).',
].join('\n');

export const BlockType = z.enum(['paragraph', 'heading', 'todo', 'bullet', 'code']);
export type BlockType = z.infer<typeof BlockType>;

export const PropertyType = z.enum(['text', 'number', 'select', 'multi_select', 'date', 'checkbox', 'person']);
export type PropertyType = z.infer<typeof PropertyType>;

export interface PageRow {
  id: string;
  parent_id: string | null;
  kind: 'page' | 'database' | 'row';
  title: string;
  properties: string;
  archived: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export interface BlockRow {
  id: string;
  page_id: string;
  position: number;
  type: BlockType;
  text: string;
  checked: number | null;
  updated_at: string;
  updated_by: string;
}

export interface PropertyRow {
  id: string;
  database_id: string;
  name: string;
  type: PropertyType;
  options: string;
  position: number;
}

export interface CommentRow {
  id: string;
  page_id: string;
  block_id: string | null;
  author: string;
  text: string;
  created_at: string;
  resolved: number;
  resolved_by: string | null;
}

export interface MemberRow {
  id: string;
  name: string;
  email: string;
  team: string;
}

export function findPage(db: Database.Database, id: string): PageRow | undefined {
  return db.prepare('SELECT * FROM pages WHERE id = ?').get(id) as PageRow | undefined;
}

/** A page the agent may read; a clear error naming the id otherwise. */
export function requirePage(db: Database.Database, id: string): PageRow {
  const page = findPage(db, id);
  if (!page) throw new ToolError(`no page with id "${id}" (use search to find page ids)`);
  return page;
}

export function requireDatabase(db: Database.Database, id: string): PageRow {
  const page = requirePage(db, id);
  if (page.kind !== 'database') throw new ToolError(`"${page.title}" (${id}) is a ${page.kind}, not a database`);
  return page;
}

export function blocksOf(db: Database.Database, pageId: string): BlockRow[] {
  return db.prepare('SELECT * FROM blocks WHERE page_id = ? ORDER BY position, id').all(pageId) as BlockRow[];
}

export function propertiesOf(db: Database.Database, databaseId: string): PropertyRow[] {
  return db.prepare('SELECT * FROM database_properties WHERE database_id = ? ORDER BY position').all(databaseId) as PropertyRow[];
}

export function membersOf(db: Database.Database): MemberRow[] {
  return db.prepare('SELECT * FROM members ORDER BY name, id').all() as MemberRow[];
}

/** Marks a page as edited now by the agent. */
export function touchPage(db: Database.Database, pageId: string, now: string): void {
  db.prepare('UPDATE pages SET updated_at = ?, updated_by = ? WHERE id = ?').run(now, ME.id, pageId);
}

export function parseJsonObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function parseStringArray(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
