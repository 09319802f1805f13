import type Database from 'better-sqlite3';
import type { JsonObject } from '../../core/index.ts';
import { ToolError, type EpisodeContext } from '../define.ts';
import type { DeliveryRow, MessageRow } from './schema.ts';

const reservedByDb = new WeakMap<Database.Database, Set<string>>();

/** Ids a task promises to use later (mail that arrives mid-episode): generated ids must not take them. */
export function reserveIds(db: Database.Database, ids: Iterable<string>): void {
  const set = reservedByDb.get(db) ?? new Set<string>();
  for (const id of ids) set.add(id);
  reservedByDb.set(db, set);
}

/**
 * A fresh id from the episode's sequence, spread over four digits so ids look unordered: an agent
 * cannot tell task fixtures from background mail by their ids. Skips ids already taken or reserved.
 */
export function newId(ctx: Pick<EpisodeContext, 'db' | 'ids'>, prefix: IdPrefix): string {
  const table = prefix === 'msg' ? 'messages' : prefix === 'ct' ? 'contacts' : null;
  return newIdUnless(ctx, prefix, (id) =>
    prefix === 'thr' ? ctx.db.prepare('SELECT 1 FROM messages WHERE thread_id = ?').get(id) !== undefined : ctx.db.prepare(`SELECT 1 FROM ${table!} WHERE id = ?`).get(id) !== undefined,
  );
}

export type IdPrefix = 'msg' | 'thr' | 'ct';

/** newId with the caller telling which ids are in use (seeding keeps them in memory instead of asking the database per id). */
export function newIdUnless(ctx: Pick<EpisodeContext, 'db' | 'ids'>, prefix: IdPrefix, used: (id: string) => boolean): string {
  const reserved = reservedByDb.get(ctx.db);
  for (;;) {
    const raw = ctx.ids.next(prefix);
    const n = Number(raw.slice(prefix.length + 1));
    const id = `${prefix}_${String((n * 7307 + 1181) % 10000).padStart(4, '0')}`;
    if (reserved?.has(id) || used(id)) continue;
    return id;
  }
}

/** Ids in use in the mailbox now, per prefix, for newIdUnless. */
export function usedIds(db: Database.Database): Record<IdPrefix, Set<string>> {
  const used: Record<IdPrefix, Set<string>> = { msg: new Set(), thr: new Set(), ct: new Set() };
  const rows = db.prepare(`SELECT 'msg' AS prefix, id FROM messages UNION ALL SELECT 'thr', thread_id FROM messages UNION ALL SELECT 'ct', id FROM contacts`).all() as { prefix: IdPrefix; id: string }[];
  for (const { prefix, id } of rows) used[prefix].add(id);
  return used;
}

/** "Dana Lee <Dana@X.example>" or "dana@x.example" → "dana@x.example". */
export function normaliseAddress(text: string): string {
  const angle = /<([^>]+)>/.exec(text);
  return (angle ? angle[1]! : text).trim().toLowerCase();
}

export function isAddress(text: string): boolean {
  return /^[^\s<>@,]+@[^\s<>@,]+\.[^\s<>@,]+$/.test(normaliseAddress(text));
}

export function splitAddrs(list: string): string[] {
  return list
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
}

export function joinAddrs(list: readonly string[]): string {
  return [...new Set(list.map(normaliseAddress))].join(', ');
}

export function getMessage(db: Database.Database, id: string): MessageRow {
  const row = db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
  if (!row) throw new ToolError(`no message with id "${id}" (ids look like msg_1234; search_messages lists them)`);
  return row;
}

export function labelsOf(db: Database.Database, messageId: string): string[] {
  return (db.prepare('SELECT label FROM message_labels WHERE message_id = ? ORDER BY label').all(messageId) as { label: string }[]).map((r) => r.label);
}

export function folderNames(db: Database.Database): string[] {
  const order = `CASE name WHEN 'inbox' THEN 0 WHEN 'drafts' THEN 1 WHEN 'sent' THEN 2 WHEN 'archive' THEN 3 WHEN 'trash' THEN 4 ELSE 5 END`;
  return (db.prepare(`SELECT name FROM folders ORDER BY ${order}, name`).all() as { name: string }[]).map((r) => r.name);
}

/** A folder's stored name, matched case-insensitively. */
export function findFolder(db: Database.Database, name: string): string | undefined {
  const row = db.prepare('SELECT name FROM folders WHERE lower(name) = lower(?)').get(name.trim()) as { name: string } | undefined;
  return row?.name;
}

export function resolveFolder(db: Database.Database, name: string): string {
  const found = findFolder(db, name);
  if (!found) throw new ToolError(`no folder named "${name}"; folders: ${folderNames(db).join(', ')} (create_folder makes a new one)`);
  return found;
}

export function findLabel(db: Database.Database, name: string): string | undefined {
  const row = db.prepare('SELECT name FROM labels WHERE lower(name) = lower(?)').get(name.trim()) as { name: string } | undefined;
  return row?.name;
}

export function insertMessage(db: Database.Database, row: MessageRow): void {
  // Positional parameters: binding by name looks up every key and costs more than the insert.
  db.prepare(
    `INSERT INTO messages (id, thread_id, folder, from_addr, from_name, to_addrs, cc_addrs, subject, body, sent_at, read, starred, in_reply_to, forwarded_from)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(row.id, row.thread_id, row.folder, row.from_addr, row.from_name, row.to_addrs, row.cc_addrs, row.subject, row.body, row.sent_at, row.read, row.starred, row.in_reply_to, row.forwarded_from);
}

export function addLabelRow(db: Database.Database, messageId: string, label: string): void {
  db.prepare('INSERT OR IGNORE INTO labels (name) VALUES (?)').run(label);
  db.prepare('INSERT OR IGNORE INTO message_labels (message_id, label) VALUES (?, ?)').run(messageId, label);
}

export function recordDelivery(db: Database.Database, kind: DeliveryRow['kind'], message: MessageRow): void {
  db.prepare(
    `INSERT INTO deliveries (message_id, kind, thread_id, to_addrs, cc_addrs, subject, body, in_reply_to, forwarded_from, sent_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(message.id, kind, message.thread_id, message.to_addrs, message.cc_addrs, message.subject, message.body, message.in_reply_to, message.forwarded_from, message.sent_at);
}

const SNIPPET_CHARS = 90;

/** The start of a body on one line: enough to recognise a message, not enough to act on it. */
export function snippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length <= SNIPPET_CHARS ? flat : `${flat.slice(0, SNIPPET_CHARS).trimEnd()}…`;
}

function sender(row: MessageRow): string {
  return row.from_name ? `${row.from_name} <${row.from_addr}>` : row.from_addr;
}

/** How a message appears in listings. */
export function summarise(db: Database.Database, row: MessageRow): JsonObject {
  return {
    id: row.id,
    threadId: row.thread_id,
    folder: row.folder,
    from: sender(row),
    to: splitAddrs(row.to_addrs),
    subject: row.subject,
    snippet: snippet(row.body),
    sentAt: row.sent_at,
    read: row.read === 1,
    starred: row.starred === 1,
    labels: labelsOf(db, row.id),
  };
}

/** How a message appears when opened. */
export function present(db: Database.Database, row: MessageRow): JsonObject {
  const out: JsonObject = {
    id: row.id,
    threadId: row.thread_id,
    folder: row.folder,
    from: sender(row),
    to: splitAddrs(row.to_addrs),
    cc: splitAddrs(row.cc_addrs),
    subject: row.subject,
    sentAt: row.sent_at,
    read: row.read === 1,
    starred: row.starred === 1,
    labels: labelsOf(db, row.id),
    body: row.body,
  };
  if (row.in_reply_to) out.inReplyTo = row.in_reply_to;
  return out;
}
