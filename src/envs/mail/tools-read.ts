import { z } from 'zod';
import type { JsonObject } from '../../core/index.ts';
import { defineTool, ToolError } from '../define.ts';
import type { ContactRow, MessageRow } from './schema.ts';
import { findLabel, folderNames, getMessage, present, resolveFolder, summarise } from './store.ts';

const DateText = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'a date like 2026-03-01 or 2026-03-01T09:00:00Z');

const Cursor = z.string().describe('nextCursor from the previous page of the same search');

function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^o(\d+)$/.exec(cursor);
  const offset = match ? Number(match[1]) : NaN;
  // Past 2^53 the number is a float, which SQLite refuses as an OFFSET (a crash, not a tool error).
  if (!Number.isSafeInteger(offset)) throw new ToolError(`invalid cursor "${cursor}": pass the nextCursor value from the previous page unchanged`);
  return offset;
}

/**
 * Text matched with LIKE. SQLite refuses patterns over 50,000 bytes and expressions nested over
 * 1,000 deep (one per query word): far past any real search, well short of either limit.
 */
const MAX_SEARCH_CHARS = 1_000;
const SearchText = z.string().max(MAX_SEARCH_CHARS, `at most ${MAX_SEARCH_CHARS} characters`);

/** Words (or "quoted phrases"), each of which must appear somewhere in the message. */
function terms(query: string): string[] {
  return [...query.matchAll(/"([^"]+)"|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? '').toLowerCase()).filter(Boolean);
}

function like(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export const list_folders = defineTool({
  description: 'List mail folders with their message and unread counts, and the labels in use.',
  input: z.object({}),
  run: (_input, { db }) => {
    const counts = db.prepare('SELECT folder, COUNT(*) AS total, SUM(read = 0) AS unread FROM messages GROUP BY folder').all() as { folder: string; total: number; unread: number }[];
    const byFolder = new Map(counts.map((c) => [c.folder, c]));
    const labels = db.prepare('SELECT l.name AS name, COUNT(ml.message_id) AS total FROM labels l LEFT JOIN message_labels ml ON ml.label = l.name GROUP BY l.name ORDER BY l.name').all() as { name: string; total: number }[];
    return {
      folders: folderNames(db).map((name) => ({ name, total: byFolder.get(name)?.total ?? 0, unread: byFolder.get(name)?.unread ?? 0 })),
      labels: labels.map((l) => ({ name: l.name, total: l.total })),
    };
  },
});

export const search_messages = defineTool({
  description:
    'Search mail, newest first. `query` words must all appear in the sender, recipients, subject or body ("quotes" for a phrase). ' +
    'Without `folder`, searches every folder except trash. Results are pages of `pageSize` (default 10) with body snippets; ' +
    'pass `nextCursor` back as `cursor` for the next page, and read_message for the full text.',
  input: z.object({
    query: SearchText.optional(),
    folder: z.string().optional().describe('inbox, sent, archive, trash, drafts or a custom folder'),
    label: z.string().optional(),
    from: SearchText.optional().describe('part of the sender name or address'),
    to: SearchText.optional().describe('part of a recipient address (to or cc)'),
    unread: z.boolean().optional().describe('true: only unread; false: only read'),
    starred: z.boolean().optional(),
    after: DateText.optional().describe('sent at or after this time'),
    before: DateText.optional().describe('sent before this time'),
    cursor: Cursor.optional(),
    pageSize: z.number().int().min(1).max(25).default(10),
  }),
  run: (input, { db }) => {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (input.folder !== undefined) {
      where.push('m.folder = ?');
      args.push(resolveFolder(db, input.folder));
    } else where.push(`m.folder != 'trash'`);
    if (input.label !== undefined) {
      const label = findLabel(db, input.label);
      if (!label) {
        const all = (db.prepare('SELECT name FROM labels ORDER BY name').all() as { name: string }[]).map((l) => l.name);
        throw new ToolError(`no label "${input.label}"; labels: ${all.join(', ') || '(none yet)'}`);
      }
      where.push('EXISTS (SELECT 1 FROM message_labels ml WHERE ml.message_id = m.id AND ml.label = ?)');
      args.push(label);
    }
    // No lower(): SQLite's LIKE already ignores case for ASCII, the only case lower() folds, and
    // lowering every column of every message on each search was a third of its cost.
    for (const term of terms(input.query ?? '')) {
      where.push(`(m.from_addr LIKE ? ESCAPE '\\' OR m.from_name LIKE ? ESCAPE '\\' OR m.to_addrs LIKE ? ESCAPE '\\' OR m.cc_addrs LIKE ? ESCAPE '\\' OR m.subject LIKE ? ESCAPE '\\' OR m.body LIKE ? ESCAPE '\\')`);
      args.push(...Array<string>(6).fill(like(term)));
    }
    if (input.from !== undefined) {
      where.push(`(m.from_addr LIKE ? ESCAPE '\\' OR m.from_name LIKE ? ESCAPE '\\')`);
      args.push(like(input.from.toLowerCase()), like(input.from.toLowerCase()));
    }
    if (input.to !== undefined) {
      where.push(`(m.to_addrs LIKE ? ESCAPE '\\' OR m.cc_addrs LIKE ? ESCAPE '\\')`);
      args.push(like(input.to.toLowerCase()), like(input.to.toLowerCase()));
    }
    if (input.unread !== undefined) where.push(input.unread ? 'm.read = 0' : 'm.read = 1');
    if (input.starred !== undefined) where.push(input.starred ? 'm.starred = 1' : 'm.starred = 0');
    if (input.after !== undefined) {
      where.push('m.sent_at >= ?');
      args.push(new Date(input.after).toISOString());
    }
    if (input.before !== undefined) {
      where.push('m.sent_at < ?');
      args.push(new Date(input.before).toISOString());
    }
    const clause = where.join(' AND ');
    const total = (db.prepare(`SELECT COUNT(*) AS n FROM messages m WHERE ${clause}`).get(...args) as { n: number }).n;
    const offset = offsetOf(input.cursor);
    if (offset > total) throw new ToolError(`cursor "${input.cursor}" is past the end of these results (${total} in total)`);
    const rows = db
      .prepare(`SELECT * FROM messages m WHERE ${clause} ORDER BY m.sent_at DESC, m.id LIMIT ? OFFSET ?`)
      .all(...args, input.pageSize, offset) as MessageRow[];
    const next = offset + rows.length;
    return { total, messages: rows.map((r) => summarise(db, r)), nextCursor: next < total ? `o${next}` : null };
  },
});

export const read_message = defineTool({
  description: 'Open one message: full body, recipients and labels. Marks it read.',
  input: z.object({ messageId: z.string().min(1) }),
  run: ({ messageId }, { db }) => {
    const row = getMessage(db, messageId);
    db.prepare('UPDATE messages SET read = 1 WHERE id = ?').run(row.id);
    return present(db, { ...row, read: 1 });
  },
});

export const read_thread = defineTool({
  description: 'Open a whole conversation, oldest first, by `threadId` or by the id of any message in it. Marks its messages read.',
  input: z
    .object({ threadId: z.string().min(1).optional(), messageId: z.string().min(1).optional() })
    .refine((v) => (v.threadId === undefined) !== (v.messageId === undefined), 'give exactly one of threadId or messageId'),
  run: ({ threadId, messageId }, { db }) => {
    const thread = threadId ?? getMessage(db, messageId ?? '').thread_id;
    const rows = db.prepare('SELECT * FROM messages WHERE thread_id = ? ORDER BY sent_at, id').all(thread) as MessageRow[];
    if (rows.length === 0) throw new ToolError(`no thread with id "${thread}" (thread ids look like thr_1234)`);
    db.prepare('UPDATE messages SET read = 1 WHERE thread_id = ?').run(thread);
    return { threadId: thread, messages: rows.map((r) => present(db, { ...r, read: 1 })) };
  },
});

function contactOut(c: ContactRow): JsonObject {
  return { id: c.id, name: c.name, email: c.email, company: c.company, phone: c.phone, notes: c.notes };
}

export const list_contacts = defineTool({
  description: 'List contacts alphabetically, a page at a time (default 20); pass nextCursor back as cursor.',
  input: z.object({ cursor: Cursor.optional(), pageSize: z.number().int().min(1).max(50).default(20) }),
  run: ({ cursor, pageSize }, { db }) => {
    const total = (db.prepare('SELECT COUNT(*) AS n FROM contacts').get() as { n: number }).n;
    const offset = offsetOf(cursor);
    if (offset > total) throw new ToolError(`cursor "${cursor}" is past the end of the contacts (${total} in total)`);
    const rows = db.prepare('SELECT * FROM contacts ORDER BY name, email LIMIT ? OFFSET ?').all(pageSize, offset) as ContactRow[];
    const next = offset + rows.length;
    return { total, contacts: rows.map(contactOut), nextCursor: next < total ? `o${next}` : null };
  },
});

export const search_contacts = defineTool({
  description: 'Find contacts whose name, email, company or notes contain every word of `query`.',
  input: z.object({ query: SearchText.min(1) }),
  run: ({ query }, { db }) => {
    const where: string[] = [];
    const args: string[] = [];
    for (const term of terms(query)) {
      where.push(`(name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR company LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\')`);
      args.push(...Array<string>(4).fill(like(term)));
    }
    const rows = db.prepare(`SELECT * FROM contacts WHERE ${where.join(' AND ') || '1'} ORDER BY name, email LIMIT 25`).all(...args) as ContactRow[];
    return { total: rows.length, contacts: rows.map(contactOut) };
  },
});
