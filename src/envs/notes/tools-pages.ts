import { z } from 'zod';
import type { JsonValue } from '../../core/index.ts';
import { defineTool, ToolError, type EpisodeContext } from '../define.ts';
import { blocksOf, BlockType, findPage, ME, membersOf, propertiesOf, requirePage, touchPage, parseStringArray, type BlockRow, type PageRow } from './schema.ts';
import { rowValues } from './properties.ts';
import { archivedAncestor, decodeCursor, encodeCursor, isVisible, parentRef, snippetOf } from './view.ts';
import { insertBlocks, insertPage, type NewBlock } from './write.ts';

export const BlockInput = z.object({
  type: BlockType.default('paragraph').describe('paragraph, heading, todo, bullet or code'),
  text: z.string().describe('the block text'),
  checked: z.boolean().optional().describe('for todo blocks: done or not (default false)'),
});
type BlockInput = z.output<typeof BlockInput>;

function nowIso(ctx: EpisodeContext): string {
  return ctx.clock.now().toISOString();
}

/** A page the agent may change: neither it nor any ancestor is archived. */
export function editablePage(ctx: EpisodeContext, id: string): PageRow {
  const page = requirePage(ctx.db, id);
  const archived = archivedAncestor(ctx.db, page);
  if (archived) {
    const where = archived.id === page.id ? 'is archived' : `is inside the archived page "${archived.title}" (${archived.id})`;
    throw new ToolError(`page "${page.title}" (${page.id}) ${where}; restore it with archive_page({ page_id: "${archived.id}", archived: false }) first`);
  }
  return page;
}

function requireBlock(ctx: EpisodeContext, id: string): BlockRow {
  const block = ctx.db.prepare('SELECT * FROM blocks WHERE id = ?').get(id) as BlockRow | undefined;
  if (!block) throw new ToolError(`no block with id "${id}" (get_page lists a page's block ids)`);
  return block;
}

function toNewBlocks(ctx: EpisodeContext, blocks: BlockInput[]): NewBlock[] {
  return blocks.map((b) => {
    if (b.checked !== undefined && b.type !== 'todo') throw new ToolError(`"checked" only applies to todo blocks, not ${b.type} ("${b.text.slice(0, 40)}")`);
    return { id: ctx.ids.next('block'), type: b.type, text: b.text, checked: b.checked ?? false };
  });
}

function blockView(b: BlockRow): Record<string, JsonValue> {
  return b.type === 'todo' ? { id: b.id, type: b.type, text: b.text, checked: b.checked === 1 } : { id: b.id, type: b.type, text: b.text };
}

function memberName(ctx: EpisodeContext, id: string): string {
  return membersOf(ctx.db).find((m) => m.id === id)?.name ?? id;
}

export const search = defineTool({
  description:
    'Search pages, databases and database rows by title and text. Every word of the query must appear. Results are ranked (title matches first) and paginated: pass next_cursor to get more.',
  input: z.object({
    query: z.string().min(1).describe('words to look for'),
    kind: z.enum(['page', 'database', 'row']).optional().describe('only this kind of result'),
    parent_id: z.string().optional().describe('only direct children of this page or database'),
    include_archived: z.boolean().default(false),
    limit: z.number().int().min(1).max(20).default(10),
    cursor: z.string().optional().describe('next_cursor from a previous search with the same query'),
  }),
  run: (input, ctx) => {
    const { db } = ctx;
    const offset = decodeCursor('search', input.cursor);
    const terms = input.query.toLowerCase().split(/\s+/).filter(Boolean);
    const full = input.query.trim().toLowerCase();
    const pages = db.prepare('SELECT * FROM pages ORDER BY updated_at DESC, id').all() as PageRow[];
    const hits: { page: PageRow; rank: number; snippet: string }[] = [];
    for (const page of pages) {
      if (input.kind && page.kind !== input.kind) continue;
      if (input.parent_id && page.parent_id !== input.parent_id) continue;
      if (!input.include_archived && !isVisible(db, page)) continue;
      const blocks = blocksOf(db, page.id);
      const title = page.title.toLowerCase();
      const body = [...blocks.map((b) => b.text), ...Object.values(rowValues(page)).map((v) => (v === null ? '' : String(v)))].join('\n').toLowerCase();
      if (!terms.every((t) => title.includes(t) || body.includes(t))) continue;
      const rank = title.includes(full) ? 0 : terms.every((t) => title.includes(t)) ? 1 : 2;
      const hitBlock = blocks.find((b) => b.text.toLowerCase().includes(full)) ?? blocks.find((b) => terms.some((t) => b.text.toLowerCase().includes(t)));
      const snippet = hitBlock ? snippetOf(hitBlock.text, terms.find((t) => hitBlock.text.toLowerCase().includes(t)) ?? '') : snippetOf(blocks[0]?.text ?? '', '');
      hits.push({ page, rank, snippet });
    }
    hits.sort((a, b) => a.rank - b.rank);
    const slice = hits.slice(offset, offset + input.limit);
    const next = offset + input.limit < hits.length ? encodeCursor('search', offset + input.limit) : null;
    return {
      total: hits.length,
      results: slice.map(({ page, snippet }) => ({
        id: page.id,
        title: page.title,
        kind: page.kind,
        parent: parentRef(db, page),
        snippet,
        updated_at: page.updated_at,
        ...(page.archived ? { archived: true } : {}),
      })),
      next_cursor: next,
    };
  },
});

export const getPage = defineTool({
  description:
    'Read a page (or database, or database row): its blocks, sub-pages, comments and, for rows, property values. Long pages are cut after `limit` blocks: call again with offset = next_offset to read on.',
  input: z.object({
    page_id: z.string().min(1),
    offset: z.number().int().min(0).default(0).describe('index of the first block to show'),
    limit: z.number().int().min(1).max(50).default(30),
  }),
  run: ({ page_id, offset, limit }, ctx) => {
    const { db } = ctx;
    const page = requirePage(db, page_id);
    const blocks = blocksOf(db, page.id);
    const shown = blocks.slice(offset, offset + limit);
    const nextOffset = offset + limit < blocks.length ? offset + limit : null;
    const children = (db.prepare("SELECT * FROM pages WHERE parent_id = ? AND kind != 'row' AND archived = 0 ORDER BY created_at, id").all(page.id) as PageRow[]).map((c) => ({ id: c.id, title: c.title, kind: c.kind }));
    const comments = (db.prepare('SELECT * FROM comments WHERE page_id = ? ORDER BY created_at, id').all(page.id) as { id: string; block_id: string | null; author: string; text: string; resolved: number; created_at: string }[]).map((c) => ({
      id: c.id,
      block_id: c.block_id,
      author: memberName(ctx, c.author),
      text: c.text,
      resolved: c.resolved === 1,
      created_at: c.created_at,
    }));
    const out: Record<string, JsonValue> = {
      id: page.id,
      title: page.title,
      kind: page.kind,
      parent: parentRef(db, page),
      archived: archivedAncestor(db, page) !== undefined,
      created_by: memberName(ctx, page.created_by),
      updated_at: page.updated_at,
      updated_by: memberName(ctx, page.updated_by),
    };
    if (page.kind === 'row') out.properties = rowValues(page);
    if (page.kind === 'database') {
      out.schema = propertiesOf(db, page.id).map((p): JsonValue => (p.type === 'select' || p.type === 'multi_select' ? { name: p.name, type: p.type, options: parseStringArray(p.options) } : { name: p.name, type: p.type }));
      out.row_count = (db.prepare("SELECT COUNT(*) AS n FROM pages WHERE parent_id = ? AND kind = 'row' AND archived = 0").get(page.id) as { n: number }).n;
      out.hint = 'use query_database to list rows';
    }
    out.blocks = shown.map(blockView);
    out.block_count = blocks.length;
    if (nextOffset !== null) {
      out.truncated = `showing blocks ${offset + 1}–${offset + shown.length} of ${blocks.length}; call get_page with offset ${nextOffset} to read more`;
      out.next_offset = nextOffset;
    }
    if (children.length > 0) out.children = children;
    if (comments.length > 0) out.comments = comments;
    return out;
  },
});

export const createPage = defineTool({
  description: 'Create a page, optionally under a parent page and with initial blocks. (Rows of a database are created with create_row.)',
  input: z.object({
    title: z.string().trim().min(1),
    parent_id: z.string().optional().describe('the parent page; omit for a top-level page'),
    blocks: z.array(BlockInput).max(50).default([]),
  }),
  run: ({ title, parent_id, blocks }, ctx) => {
    if (parent_id !== undefined) {
      const parent = editablePage(ctx, parent_id);
      if (parent.kind === 'database') throw new ToolError(`"${parent.title}" is a database: add rows to it with create_row`);
    }
    const id = ctx.ids.next('page');
    const at = nowIso(ctx);
    insertPage(ctx.db, { id, parentId: parent_id ?? null, title, at, by: ME.id });
    if (blocks.length > 0) insertBlocks(ctx.db, id, toNewBlocks(ctx, blocks), { at, by: ME.id });
    return { id, title, parent_id: parent_id ?? null, blocks: blocks.length };
  },
});

export const updatePageTitle = defineTool({
  description: 'Rename a page, database or database row.',
  input: z.object({ page_id: z.string().min(1), title: z.string().trim().min(1) }),
  run: ({ page_id, title }, ctx) => {
    const page = editablePage(ctx, page_id);
    ctx.db.prepare('UPDATE pages SET title = ? WHERE id = ?').run(title, page.id);
    touchPage(ctx.db, page.id, nowIso(ctx));
    return { id: page.id, old_title: page.title, title };
  },
});

export const appendBlocks = defineTool({
  description: 'Add blocks to a page: at the end, or right after `after_block_id`.',
  input: z.object({
    page_id: z.string().min(1),
    blocks: z.array(BlockInput).min(1).max(50),
    after_block_id: z.string().optional(),
  }),
  run: ({ page_id, blocks, after_block_id }, ctx) => {
    const page = editablePage(ctx, page_id);
    let afterPosition: number | undefined;
    if (after_block_id !== undefined) {
      const after = requireBlock(ctx, after_block_id);
      if (after.page_id !== page.id) throw new ToolError(`block ${after_block_id} is on page ${after.page_id}, not ${page.id}`);
      afterPosition = after.position;
    }
    const created = toNewBlocks(ctx, blocks);
    const at = nowIso(ctx);
    insertBlocks(ctx.db, page.id, created, { at, by: ME.id, ...(afterPosition === undefined ? {} : { afterPosition }) });
    touchPage(ctx.db, page.id, at);
    return { page_id: page.id, block_ids: created.map((b) => b.id) };
  },
});

export const updateBlock = defineTool({
  description: 'Change a block: its text, its type, or (for todos) whether it is checked.',
  input: z.object({
    block_id: z.string().min(1),
    text: z.string().optional(),
    type: BlockType.optional(),
    checked: z.boolean().optional(),
  }),
  run: (input, ctx) => {
    const block = requireBlock(ctx, input.block_id);
    editablePage(ctx, block.page_id);
    if (input.text === undefined && input.type === undefined && input.checked === undefined) throw new ToolError('nothing to change: give text, type or checked');
    const type = input.type ?? block.type;
    if (input.checked !== undefined && type !== 'todo') throw new ToolError(`block ${block.id} is a ${type}; only todo blocks can be checked`);
    const wasChecked = block.checked === 1;
    const checked = type === 'todo' ? ((input.checked ?? wasChecked) ? 1 : 0) : null;
    const at = nowIso(ctx);
    ctx.db.prepare('UPDATE blocks SET text = ?, type = ?, checked = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(input.text ?? block.text, type, checked, at, ME.id, block.id);
    touchPage(ctx.db, block.page_id, at);
    return { id: block.id, type, text: input.text ?? block.text, ...(type === 'todo' ? { checked: checked === 1 } : {}) };
  },
});

export const deleteBlock = defineTool({
  description: 'Delete one block from its page.',
  input: z.object({ block_id: z.string().min(1) }),
  run: ({ block_id }, ctx) => {
    const block = requireBlock(ctx, block_id);
    editablePage(ctx, block.page_id);
    ctx.db.prepare('DELETE FROM blocks WHERE id = ?').run(block.id);
    touchPage(ctx.db, block.page_id, nowIso(ctx));
    return { deleted: block.id, page_id: block.page_id };
  },
});

export const archivePage = defineTool({
  description: 'Archive a page, database or row (it and everything under it disappear from search), or restore it with archived: false.',
  input: z.object({ page_id: z.string().min(1), archived: z.boolean().default(true) }),
  run: ({ page_id, archived }, ctx) => {
    const page = requirePage(ctx.db, page_id);
    if (page.archived === (archived ? 1 : 0)) throw new ToolError(`page "${page.title}" (${page.id}) is already ${archived ? 'archived' : 'not archived'}`);
    ctx.db.prepare('UPDATE pages SET archived = ? WHERE id = ?').run(archived ? 1 : 0, page.id);
    touchPage(ctx.db, page.id, nowIso(ctx));
    const parent = page.parent_id ? findPage(ctx.db, page.parent_id) : undefined;
    const hidden = parent ? archivedAncestor(ctx.db, parent) : undefined;
    return { id: page.id, title: page.title, archived, ...(hidden && !archived ? { note: `still hidden: its ancestor "${hidden.title}" is archived` } : {}) };
  },
});

export const listMembers = defineTool({
  description: 'List workspace members (id, name, email, team), optionally filtered by a name, email or team fragment.',
  input: z.object({ query: z.string().optional() }),
  run: ({ query }, ctx) => {
    const needle = query?.trim().toLowerCase() ?? '';
    const members = membersOf(ctx.db).filter((m) => !needle || `${m.name} ${m.email} ${m.team}`.toLowerCase().includes(needle));
    return { members: members.map((m) => ({ ...m, ...(m.id === ME.id ? { you: true } : {}) })) };
  },
});
