import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ToolError, type EpisodeContext } from '../define.ts';
import { COLLEAGUES, ME } from './people.ts';

/**
 * The chat app. Channels and direct-message conversations share `chat_channels` (a DM is kind
 * 'dm', named '@handle' after the other person). A thread reply points at its top-level message
 * with `thread_id`. Table names carry a `chat_` prefix: mail already owns `messages`.
 */
export const CHAT_SCHEMA = `
CREATE TABLE chat_users (
  id TEXT PRIMARY KEY,
  handle TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL DEFAULT '',
  team TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT ''
);
CREATE TABLE chat_channels (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
  topic TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE TABLE chat_members (
  channel_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);
CREATE TABLE chat_messages (
  id TEXT PRIMARY KEY,
  channel_id TEXT NOT NULL,
  thread_id TEXT,
  author_id TEXT NOT NULL,
  text TEXT NOT NULL,
  posted_at TEXT NOT NULL
);
CREATE INDEX chat_messages_channel ON chat_messages (channel_id, posted_at);
CREATE INDEX chat_messages_thread ON chat_messages (thread_id);
CREATE TABLE chat_reactions (
  message_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  emoji TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (message_id, user_id, emoji)
);
`;

export interface ChatUserRow {
  id: string;
  handle: string;
  name: string;
  email: string;
  title: string;
  team: string;
  status: string;
}

export interface ChannelRow {
  id: string;
  name: string;
  kind: 'public' | 'private' | 'dm';
  topic: string;
  created_at: string;
}

export interface ChatMessageRow {
  id: string;
  channel_id: string;
  thread_id: string | null;
  author_id: string;
  text: string;
  posted_at: string;
}

export interface ReactionRow {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: string;
}

const MessageId = z.string().regex(/^cm_\d{4}$/, 'cm_ followed by four digits');
/** A person: handle ("priya" or "@priya"), email or user id. */
const Who = z.string().min(1);

export const ChatChannelFixture = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a lower-case channel name without #'),
    kind: z.enum(['public', 'private']).default('public'),
    topic: z.string().default(''),
    /** Handles or emails; "all" for everyone. I am always a member unless `joined` is false. */
    members: z.union([z.literal('all'), z.array(Who)]).default('all'),
    joined: z.boolean().default(true),
  })
  .strict();

export const ChatMessageFixture = z
  .object({
    id: MessageId,
    /** A channel name ("design" or "#design"), or "@handle" for my direct messages with that person. */
    channel: z.string().min(1),
    author: Who,
    text: z.string().min(1),
    /** The top-level message this replies to (same channel). */
    thread: MessageId.optional(),
    /** When, relative to the episode start; `at` gives an absolute time instead. */
    minutesAgo: z.number().nonnegative().optional(),
    at: z.string().datetime({ offset: true }).optional(),
    reactions: z.array(z.object({ emoji: z.string().min(1), by: z.array(Who).min(1) })).default([]),
  })
  .strict();
export type ChatMessageFixture = z.infer<typeof ChatMessageFixture>;
export type ChatMessageFixtureInput = z.input<typeof ChatMessageFixture>;

export const ChatFixtures = z
  .object({
    channels: z.array(ChatChannelFixture).default([]),
    messages: z.array(ChatMessageFixture).default([]),
    /** Status lines by handle ("Out of office until Thursday"). */
    statuses: z.record(z.string(), z.string()).default({}),
    /** Seeded background chatter: how many messages (`false` for none). */
    background: z.union([z.literal(false), z.object({ min: z.number().int().nonnegative(), max: z.number().int().positive() })]).optional(),
  })
  .strict();
export type ChatFixtures = z.infer<typeof ChatFixtures>;
export type ChatFixturesInput = z.input<typeof ChatFixtures>;

// ── lookups shared by tools, seed, checks and events ──────────────────────────────────────

export function chatUsers(db: Database.Database): ChatUserRow[] {
  return db.prepare('SELECT * FROM chat_users ORDER BY name, handle').all() as ChatUserRow[];
}

export function userById(db: Database.Database, id: string): ChatUserRow | undefined {
  return db.prepare('SELECT * FROM chat_users WHERE id = ?').get(id) as ChatUserRow | undefined;
}

/** "Priya Raman (@priya)": how people appear in chat output. */
export function display(db: Database.Database, userId: string): string {
  const u = userById(db, userId);
  return u ? `${u.name} (@${u.handle})` : userId;
}

/**
 * A person by handle, email, user id or full name (case-insensitive). A first name or an
 * ambiguous name is an error listing the candidates, so the agent has to pick.
 */
export function resolveUser(db: Database.Database, raw: string): ChatUserRow {
  const needle = raw.trim().replace(/^@/, '').toLowerCase();
  const users = chatUsers(db);
  const exact = users.filter((u) => [u.handle, u.email, u.id, u.name].some((v) => v.toLowerCase() === needle));
  if (exact.length === 1) return exact[0]!;
  const list = (rows: ChatUserRow[]) => rows.map((u) => `${u.name} (@${u.handle}, ${u.title})`).join('; ');
  if (exact.length > 1) throw new ToolError(`"${raw}" could be several people: ${list(exact)}; use a handle`);
  // A first or last name is enough when only one person has it and nobody's name merely contains it.
  const partial = users.filter((u) => u.name.toLowerCase().includes(needle));
  const byWord = partial.filter((u) => u.name.toLowerCase().split(/\s+/).includes(needle));
  if (partial.length === 1 && byWord.length === 1) return byWord[0]!;
  if (partial.length > 1) throw new ToolError(`"${raw}" could be several people: ${list(partial)}; use a handle`);
  if (partial.length === 1) throw new ToolError(`no one is called "${raw}"; did you mean ${list(partial)}? Use the handle`);
  throw new ToolError(`no chat user "${raw}" (list_chat_users shows everyone's handle)`);
}

export function channelById(db: Database.Database, id: string): ChannelRow | undefined {
  return db.prepare('SELECT * FROM chat_channels WHERE id = ?').get(id) as ChannelRow | undefined;
}

export function isMember(db: Database.Database, channelId: string, userId: string): boolean {
  return db.prepare('SELECT 1 FROM chat_members WHERE channel_id = ? AND user_id = ?').get(channelId, userId) !== undefined;
}

/** "#design" for channels, "@priya" for direct messages. */
export function channelLabel(channel: ChannelRow): string {
  return channel.kind === 'dm' ? channel.name : `#${channel.name}`;
}

/** The DM conversation id with a person. */
export function dmId(handle: string): string {
  return `dm-${handle}`;
}

/**
 * A channel the agent may see, by name ("#design", "design") or "@handle" for a DM. Private
 * channels I am not in are reported as unknown, as a real chat app would.
 */
export function resolveChannel(db: Database.Database, raw: string): ChannelRow {
  const text = raw.trim();
  if (text.startsWith('@')) {
    const user = resolveUser(db, text);
    const dm = channelById(db, dmId(user.handle));
    if (!dm) throw new ToolError(`you have no direct messages with ${user.name} (@${user.handle}) yet; send_direct_message starts one`);
    return dm;
  }
  const name = text.replace(/^#/, '').toLowerCase();
  const row = db.prepare("SELECT * FROM chat_channels WHERE name = ? AND kind != 'dm'").get(name) as ChannelRow | undefined;
  if (!row || (row.kind === 'private' && !isMember(db, row.id, ME.id))) {
    const names = visibleChannels(db).filter((c) => c.kind !== 'dm').map((c) => `#${c.name}`);
    throw new ToolError(`no channel "${raw}"; channels you can see: ${names.join(', ')}`);
  }
  return row;
}

/** Channels listed to me: every public channel, private ones I am in, and my DMs. */
export function visibleChannels(db: Database.Database): ChannelRow[] {
  return db
    .prepare(
      `SELECT c.* FROM chat_channels c
       WHERE c.kind = 'public' OR EXISTS (SELECT 1 FROM chat_members m WHERE m.channel_id = c.id AND m.user_id = ?)
       ORDER BY CASE c.kind WHEN 'dm' THEN 1 ELSE 0 END, c.name`,
    )
    .all(ME.id) as ChannelRow[];
}

export function requireMessage(db: Database.Database, id: string): ChatMessageRow {
  const row = db.prepare('SELECT * FROM chat_messages WHERE id = ?').get(id.trim()) as ChatMessageRow | undefined;
  const channel = row ? channelById(db, row.channel_id) : undefined;
  if (!row || !channel || (channel.kind !== 'public' && !isMember(db, channel.id, ME.id))) {
    throw new ToolError(`no chat message "${id}" (ids look like cm_1234; read_channel and search_chat show them)`);
  }
  return row;
}

const reservedByDb = new WeakMap<Database.Database, Set<string>>();

/** Ids that fixtures and scheduled posts will use later: generated ids skip them. */
export function reserveChatIds(db: Database.Database, ids: Iterable<string>): void {
  const set = reservedByDb.get(db) ?? new Set<string>();
  for (const id of ids) set.add(id);
  reservedByDb.set(db, set);
}

/** A fresh message id spread over four digits, so fixtures and seeded chatter look alike. */
export function newChatId(ctx: Pick<EpisodeContext, 'db' | 'ids'>): string {
  const reserved = reservedByDb.get(ctx.db);
  for (;;) {
    const n = Number(ctx.ids.next('cm').slice(3));
    const id = `cm_${String((n * 6133 + 2917) % 10000).padStart(4, '0')}`;
    if (reserved?.has(id)) continue;
    if (ctx.db.prepare('SELECT 1 FROM chat_messages WHERE id = ?').get(id)) continue;
    return id;
  }
}

export function insertChatMessage(db: Database.Database, row: ChatMessageRow): void {
  db.prepare('INSERT INTO chat_messages (id, channel_id, thread_id, author_id, text, posted_at) VALUES (@id, @channel_id, @thread_id, @author_id, @text, @posted_at)').run(row);
}

/** Makes the DM conversation with a person if there is none yet. */
export function ensureDm(db: Database.Database, user: ChatUserRow, at: string): ChannelRow {
  const id = dmId(user.handle);
  if (!channelById(db, id)) {
    db.prepare("INSERT INTO chat_channels (id, name, kind, topic, created_at) VALUES (?, ?, 'dm', '', ?)").run(id, `@${user.handle}`, at);
    db.prepare('INSERT INTO chat_members (channel_id, user_id) VALUES (?, ?), (?, ?)').run(id, ME.id, id, user.id);
  }
  return channelById(db, id)!;
}

/** Emoji as names: ":white_check_mark:" and "white_check_mark" are the same reaction. */
export function normaliseEmoji(raw: string): string {
  return raw.trim().replace(/^:|:$/g, '').toLowerCase();
}

export function seedUsers(db: Database.Database, statuses: Record<string, string>): void {
  const insert = db.prepare('INSERT INTO chat_users (id, handle, name, email, title, team, status) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const c of COLLEAGUES) insert.run(c.id, c.handle, c.name, c.email, c.title, c.team, statuses[c.handle] ?? '');
  for (const handle of Object.keys(statuses)) {
    if (!COLLEAGUES.some((c) => c.handle === handle)) throw new Error(`chat.statuses: no colleague with handle "${handle}"`);
  }
}
