import { z } from 'zod';
import { defineWorldEvent } from '../define.ts';
import { mergeRowProperties, rowValues } from './properties.ts';
import { BlockType, requireDatabase, requirePage } from './schema.ts';
import { insertBlocks, insertComment } from './write.ts';

/** A colleague edits the workspace mid-episode: a block's text, a new block, or a row's values. */
export const pageEditedByColleague = defineWorldEvent({
  description: 'A colleague changes a block, adds a block to a page, or changes a database row.',
  params: z
    .object({
      author: z.string().default('u-priya'),
      block_id: z.string().optional(),
      text: z.string().optional(),
      checked: z.boolean().optional(),
      append: z.object({ page_id: z.string(), id: z.string(), type: BlockType.default('paragraph'), text: z.string() }).optional(),
      row_id: z.string().optional(),
      values: z.record(z.string(), z.unknown()).optional(),
    })
    .refine((p) => p.block_id !== undefined || p.append !== undefined || p.row_id !== undefined, 'give block_id, append or row_id'),
  apply: (p, { db, clock }) => {
    const at = clock.now().toISOString();
    const touch = (pageId: string) => db.prepare('UPDATE pages SET updated_at = ?, updated_by = ? WHERE id = ?').run(at, p.author, pageId);
    if (p.block_id !== undefined) {
      const block = db.prepare('SELECT * FROM blocks WHERE id = ?').get(p.block_id) as { page_id: string; text: string; checked: number | null } | undefined;
      if (!block) throw new Error(`page_edited_by_colleague: no block ${p.block_id}`);
      const checked = p.checked === undefined ? block.checked : p.checked ? 1 : 0;
      db.prepare('UPDATE blocks SET text = ?, checked = ?, updated_at = ?, updated_by = ? WHERE id = ?').run(p.text ?? block.text, checked, at, p.author, p.block_id);
      touch(block.page_id);
    }
    if (p.append !== undefined) {
      insertBlocks(db, p.append.page_id, [{ id: p.append.id, type: p.append.type, text: p.append.text }], { at, by: p.author });
      touch(p.append.page_id);
    }
    if (p.row_id !== undefined) {
      const row = requirePage(db, p.row_id);
      const merged = mergeRowProperties(db, requireDatabase(db, row.parent_id ?? ''), rowValues(row), p.values ?? {});
      db.prepare('UPDATE pages SET properties = ? WHERE id = ?').run(JSON.stringify(merged), row.id);
      touch(row.id);
    }
  },
});

export const commentAdded = defineWorldEvent({
  description: 'A colleague leaves a comment on a page (or one of its blocks).',
  params: z.object({ id: z.string().min(1), page_id: z.string().min(1), block_id: z.string().optional(), author: z.string().default('u-priya'), text: z.string().min(1) }),
  apply: (p, { db, clock }) => {
    insertComment(db, { id: p.id, pageId: p.page_id, blockId: p.block_id ?? null, author: p.author, text: p.text, at: clock.now().toISOString() });
  },
});

export const notesEvents = { page_edited_by_colleague: pageEditedByColleague, comment_added: commentAdded };
