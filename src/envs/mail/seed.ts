import type Database from 'better-sqlite3';
import { describeZodIssues, type Task } from '../../core/index.ts';
import type { EpisodeContext, FixedSeedContext } from '../define.ts';
import { parseTaskPart } from '../parsed.ts';
import { seedBackground } from './noise.ts';
import { MailInitialState, ME, SYSTEM_FOLDERS, type ContactFixture, type MessageFixture, type MessageRow } from './schema.ts';
import { addLabelRow, findFolder, findLabel, insertMessage, joinAddrs, newId, reserveIds } from './store.ts';

const threadKeysByDb = new WeakMap<Database.Database, Map<string, string>>();

/** The task's mail fixtures, validated; errors name the field. */
export function mailStateOf(ctx: { task: Pick<Task, 'initialState'> }): MailInitialState {
  const parsed = parseTaskPart(MailInitialState, ctx.task.initialState);
  if (!parsed.success) throw new Error(`initialState is not valid mail state:\n${describeZodIssues(parsed.error.issues, 'initialState')}`);
  return parsed.data;
}

export function seedFolders(db: Database.Database, custom: readonly string[]): void {
  for (const name of SYSTEM_FOLDERS) db.prepare(`INSERT INTO folders (name, kind) VALUES (?, 'system')`).run(name);
  for (const name of custom) if (!findFolder(db, name)) db.prepare(`INSERT INTO folders (name, kind) VALUES (?, 'custom')`).run(name);
}

export function insertContact(ctx: Pick<EpisodeContext, 'db' | 'ids'>, contact: Omit<ContactFixture, 'id'> & { id?: string | undefined }): string {
  const id = contact.id ?? newId(ctx, 'ct');
  ctx.db
    .prepare('INSERT INTO contacts (id, name, email, company, phone, notes) VALUES (?, ?, ?, ?, ?, ?)')
    .run(id, contact.name, contact.email.toLowerCase(), contact.company, contact.phone, contact.notes);
  return id;
}

function nameFromAddress(db: Database.Database, address: string): string {
  if (address === ME.email) return ME.name;
  const contact = db.prepare('SELECT name FROM contacts WHERE email = ?').get(address) as { name: string } | undefined;
  if (contact) return contact.name;
  const local = address.split('@')[0] ?? address;
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * Puts one fixture message in the mailbox (seeding, or mail arriving mid-episode). Messages
 * sharing a `thread` key, or replying to a message, join its thread.
 */
export function insertFixtureMessage(ctx: Pick<EpisodeContext, 'db' | 'ids' | 'clock'>, fixture: MessageFixture, where: string): MessageRow {
  const { db } = ctx;
  const keys = threadKeysByDb.get(db) ?? new Map<string, string>();
  threadKeysByDb.set(db, keys);
  const from = fixture.from.toLowerCase();
  const wanted = fixture.folder ?? (from === ME.email ? 'sent' : 'inbox');
  const folder = findFolder(db, wanted);
  if (!folder) throw new Error(`${where}.folder: no folder "${wanted}" (declare custom folders in initialState.folders)`);
  if (fixture.id && db.prepare('SELECT 1 FROM messages WHERE id = ?').get(fixture.id)) throw new Error(`${where}.id: duplicate message id ${fixture.id}`);
  const parent = fixture.inReplyTo ? (db.prepare('SELECT thread_id FROM messages WHERE id = ?').get(fixture.inReplyTo) as { thread_id: string } | undefined) : undefined;
  if (fixture.inReplyTo && !parent) throw new Error(`${where}.inReplyTo: no earlier message ${fixture.inReplyTo}`);
  let thread = fixture.thread ? keys.get(fixture.thread) : parent?.thread_id;
  thread ??= newId(ctx, 'thr');
  if (fixture.thread) keys.set(fixture.thread, thread);
  const to = fixture.to.length > 0 ? fixture.to : from === ME.email ? [] : [ME.email];
  if (to.length === 0) throw new Error(`${where}.to: a message from me needs recipients`);
  const nowMs = ctx.clock.now().getTime();
  const row: MessageRow = {
    id: fixture.id ?? newId(ctx, 'msg'),
    thread_id: thread,
    folder,
    from_addr: from,
    from_name: fixture.fromName ?? nameFromAddress(db, from),
    to_addrs: joinAddrs(to),
    cc_addrs: joinAddrs(fixture.cc),
    subject: fixture.subject,
    body: fixture.body,
    sent_at: fixture.sentAt ? new Date(fixture.sentAt).toISOString() : new Date(nowMs - (fixture.hoursAgo ?? 24) * 3_600_000).toISOString(),
    read: fixture.read || from === ME.email ? 1 : 0,
    starred: fixture.starred ? 1 : 0,
    in_reply_to: fixture.inReplyTo ?? null,
    forwarded_from: null,
  };
  insertMessage(db, row);
  for (const label of fixture.labels) addLabelRow(db, row.id, findLabel(db, label) ?? label);
  return row;
}

/** Ids of mail a task schedules to arrive later, so background mail cannot take them. */
function scheduledIds(ctx: { task: Pick<Task, 'initialState'> }): string[] {
  const schedule = ctx.task.initialState.schedule;
  if (!Array.isArray(schedule)) return [];
  const ids: string[] = [];
  for (const event of schedule) {
    const params = event && typeof event === 'object' && !Array.isArray(event) ? event.params : undefined;
    const id = params && typeof params === 'object' && !Array.isArray(params) ? params.id : undefined;
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}

/** Addresses and names the task's fixtures use, lower-cased: background mail keeps clear of them. */
function fixtureIdentities(state: MailInitialState, ctx: Pick<EpisodeContext, 'task'>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') out.add(v.toLowerCase());
  };
  for (const c of state.contacts) [c.email, c.name].forEach(add);
  for (const m of state.messages) [m.from, m.fromName, ...m.to, ...m.cc].forEach(add);
  const schedule = ctx.task.initialState.schedule;
  if (Array.isArray(schedule)) {
    for (const event of schedule) {
      const params = event && typeof event === 'object' && !Array.isArray(event) ? event.params : undefined;
      if (params && typeof params === 'object' && !Array.isArray(params)) [params.from, params.fromName].forEach(add);
    }
  }
  return out;
}

/** Seeds the mailbox from the task's own `initialState`: seedMailFixed and seedMailVaried in one. */
export function seedMailbox(ctx: EpisodeContext): void {
  seedMailState(ctx, mailStateOf(ctx));
}

/**
 * Seeds a mailbox: system and custom folders, the given contacts and messages (first, with their
 * stable ids), then background mail that varies with the seed. Environments that compose mail
 * with others pass the mail part of their own initial state here.
 */
export function seedMailState(ctx: EpisodeContext, state: MailInitialState): void {
  seedMailFixtures(ctx, state);
  seedMailBackground(ctx, state);
}

/** The mail environment's `seedFixed`: folders, labels, contacts and messages from the task, the same for every seed. */
export function seedMailFixed(ctx: FixedSeedContext): void {
  seedMailFixtures(ctx, mailStateOf(ctx));
}

/** The mail environment's `seed` after `seedMailFixed`: the background mail that varies with the seed. */
export function seedMailVaried(ctx: EpisodeContext): void {
  const state = restoreMailBeside(ctx);
  seedMailBackground(ctx, state);
}

/**
 * What seedMailFixed keeps beside the database stays with the database it seeded: rebuilt on
 * every copy, whether of the task's image (before the background is seeded) or of a whole world.
 */
export function restoreMailBeside(ctx: EpisodeContext): MailInitialState {
  const state = mailStateOf(ctx);
  restoreMailBesideWith(ctx, state);
  return state;
}

/** The same for a mailbox seeded from `state` (environments that compose mail with others). */
export function restoreMailBesideWith(ctx: EpisodeContext, state: MailInitialState): void {
  reserveIds(ctx.db, reservedIds(state, ctx));
  rememberThreadKeys(ctx.db, state);
}

function reservedIds(state: MailInitialState, ctx: { task: Pick<Task, 'initialState'> }): string[] {
  return [...state.messages.flatMap((m) => (m.id ? [m.id] : [])), ...state.contacts.flatMap((c) => (c.id ? [c.id] : [])), ...scheduledIds(ctx)];
}

function seedMailFixtures(ctx: Pick<EpisodeContext, 'db' | 'ids' | 'clock'> & { task: Pick<Task, 'initialState'> }, state: MailInitialState): void {
  seedFolders(ctx.db, state.folders);
  for (const label of state.labels) ctx.db.prepare('INSERT OR IGNORE INTO labels (name) VALUES (?)').run(label);
  reserveIds(ctx.db, reservedIds(state, ctx));
  for (const contact of state.contacts) insertContact(ctx, contact);
  state.messages.forEach((m, i) => insertFixtureMessage(ctx, m, `initialState.messages.${i}`));
}

/**
 * The thread each fixture `thread` key was given, read back from a mailbox seeded by
 * seedMailFixtures: its messages are the first rows, in fixture order.
 */
function rememberThreadKeys(db: Database.Database, state: MailInitialState): void {
  const keys = new Map<string, string>();
  threadKeysByDb.set(db, keys);
  if (!state.messages.some((m) => m.thread)) return;
  const threads = db.prepare('SELECT thread_id FROM messages ORDER BY rowid LIMIT ?').all(state.messages.length) as { thread_id: string }[];
  state.messages.forEach((m, i) => {
    const thread = threads[i]?.thread_id;
    if (m.thread && thread) keys.set(m.thread, thread);
  });
}

function seedMailBackground(ctx: EpisodeContext, state: MailInitialState): void {
  if (state.background === false) return;
  const range = state.background ?? { min: 40, max: 110 };
  seedBackground(ctx, { ...range, avoid: fixtureIdentities(state, ctx) });
}
