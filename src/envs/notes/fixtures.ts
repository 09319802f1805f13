import type Database from 'better-sqlite3';
import { z } from 'zod';
import { BlockType, PropertyType } from './schema.ts';
import { insertBlocks, insertComment, insertDatabase, insertPage, insertRow, type NewBlock } from './write.ts';

/**
 * A task's own records (`initialState`): pages, databases, rows and comments with fixed ids so
 * verifiers and golden solutions can name them for every seed. Blocks may be written as short
 * strings: "# Heading", "[ ] todo", "[x] done todo", "- bullet", "` code", anything else a paragraph.
 */
const BlockObject = z.object({
  id: z.string().min(1).optional(),
  type: BlockType.default('paragraph'),
  text: z.string(),
  checked: z.boolean().optional(),
});
export const BlockFixture = z.union([z.string(), BlockObject]);
export type BlockFixture = z.input<typeof BlockFixture>;

const CommentFixture = z.object({
  id: z.string().min(1),
  author: z.string().min(1),
  text: z.string().min(1),
  /** A block id on the same page, for comments anchored to a block. */
  block: z.string().optional(),
  resolved: z.boolean().default(false),
});

const PageFixture = z.object({
  id: z.string().min(1),
  parent: z.string().nullable().default(null),
  title: z.string().min(1),
  blocks: z.array(BlockFixture).default([]),
  comments: z.array(CommentFixture).default([]),
  archived: z.boolean().default(false),
  author: z.string().default('u-priya'),
  /** Days before the episode starts that the page was last edited. */
  age_days: z.number().nonnegative().default(3),
});
export type PageFixture = z.input<typeof PageFixture>;

const RowFixture = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  values: z.record(z.string(), z.unknown()).default({}),
  blocks: z.array(BlockFixture).default([]),
  comments: z.array(CommentFixture).default([]),
  archived: z.boolean().default(false),
  author: z.string().default('u-priya'),
  age_days: z.number().nonnegative().default(3),
});
export type RowFixture = z.input<typeof RowFixture>;

const DatabaseFixture = z.object({
  id: z.string().min(1),
  parent: z.string().nullable().default(null),
  title: z.string().min(1),
  blocks: z.array(BlockFixture).default([]),
  schema: z.record(z.string(), z.object({ type: PropertyType, options: z.array(z.string()).optional() })),
  rows: z.array(RowFixture).default([]),
  author: z.string().default('u-priya'),
  age_days: z.number().nonnegative().default(20),
});
export type DatabaseFixture = z.input<typeof DatabaseFixture>;

export const NotesFixtures = z.object({
  members: z.array(z.object({ id: z.string().min(1), name: z.string().min(1), email: z.string().min(3), team: z.string().default('Operations') })).default([]),
  pages: z.array(PageFixture).default([]),
  databases: z.array(DatabaseFixture).default([]),
  /** Leave out the seeded background workspace (tests of the tools themselves). */
  background: z.boolean().default(true),
});
export type NotesFixtures = z.output<typeof NotesFixtures>;
export type NotesFixturesInput = z.input<typeof NotesFixtures>;

export function parseBlock(fixture: BlockFixture, id: string): NewBlock {
  if (typeof fixture !== 'string') return { id: fixture.id ?? id, type: fixture.type ?? 'paragraph', text: fixture.text, checked: fixture.checked ?? false };
  const prefixes: [string, BlockType, boolean][] = [
    ['# ', 'heading', false],
    ['[ ] ', 'todo', false],
    ['[x] ', 'todo', true],
    ['- ', 'bullet', false],
    ['` ', 'code', false],
  ];
  for (const [prefix, type, checked] of prefixes) {
    if (fixture.startsWith(prefix)) return { id, type, text: fixture.slice(prefix.length), checked };
  }
  return { id, type: 'paragraph', text: fixture };
}

function daysBefore(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}

interface Content {
  id: string;
  blocks: z.output<typeof BlockFixture>[];
  comments: z.output<typeof CommentFixture>[];
}

function insertContent(db: Database.Database, item: Content, options: { at: string; by: string }): void {
  const blocks = item.blocks.map((b, i) => parseBlock(b, `${item.id}-b${i + 1}`));
  if (blocks.length > 0) insertBlocks(db, item.id, blocks, options);
  for (const c of item.comments) insertComment(db, { id: c.id, pageId: item.id, blockId: c.block ?? null, author: c.author, text: c.text, at: options.at, resolved: c.resolved });
}

/** Writes a task's fixtures. Pages are inserted in order, so a parent must come before its children. */
export function insertFixtures(db: Database.Database, fixtures: NotesFixtures, now: Date): void {
  const member = db.prepare('INSERT OR REPLACE INTO members (id, name, email, team) VALUES (?, ?, ?, ?)');
  for (const m of fixtures.members) member.run(m.id, m.name, m.email, m.team);
  for (const d of fixtures.databases) {
    const at = daysBefore(now, d.age_days);
    insertDatabase(db, { id: d.id, parentId: d.parent, title: d.title, at, by: d.author }, d.schema);
    insertContent(db, { id: d.id, blocks: d.blocks, comments: [] }, { at, by: d.author });
  }
  for (const p of fixtures.pages) {
    const at = daysBefore(now, p.age_days);
    insertPage(db, { id: p.id, parentId: p.parent, title: p.title, at, by: p.author, archived: p.archived });
    insertContent(db, p, { at, by: p.author });
  }
  // Rows after pages, so a row's values may not depend on pages but pages can sit under databases' parents.
  for (const d of fixtures.databases) {
    for (const r of d.rows) {
      const at = daysBefore(now, r.age_days);
      insertRow(db, { id: r.id, databaseId: d.id, title: r.title, at, by: r.author, archived: r.archived, values: r.values });
      insertContent(db, r, { at, by: r.author });
    }
  }
}
